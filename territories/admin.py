"""Territory plans, territories, slots and account locks in the Django admin: read-only.

Every write of plan content goes through `territories.services`, which validates rules and
trees and bumps the plan version (the compiled-matcher cache key); an admin save would skip
both, so the admin only shows these models. Edit them in the app or the REST API.
"""

from django.contrib import admin

from .models import AccountLock, Territory, TerritoryPlan, TerritorySlot


class ReadOnlyAdminMixin:
    """View permission only: no add, change or delete form, whatever the user's rights."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SlotInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TerritorySlot
    extra = 0
    raw_id_fields = ["member"]
    exclude = ["workspace"]


@admin.register(TerritoryPlan)
class TerritoryPlanAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "workspace", "status", "version", "activated_at"]
    list_filter = ["workspace", "status"]


@admin.register(Territory)
class TerritoryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "plan", "kind", "priority", "distribution", "is_active"]
    list_filter = ["workspace", "kind", "is_active"]
    search_fields = ["name"]
    raw_id_fields = ["parent", "fallback_member", "fallback_territory", "plan"]
    inlines = [SlotInline]


@admin.register(AccountLock)
class AccountLockAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["account", "territory", "workspace", "reason"]
    search_fields = ["account"]
    raw_id_fields = ["territory"]
