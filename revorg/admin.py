from django.contrib import admin

from .models import ApiKey, AuditEntry, Workspace, WorkspaceMembership


class ReadOnlyAdminMixin:
    """View permission only: no add, change or delete form, whatever the user's rights. For
    models whose writes have one home in a service (history, audit, plan version)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = WorkspaceMembership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]
    raw_id_fields = ["default_member"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "workspace", "scopes", "last_used_at", "revoked_at"]
    list_filter = ["workspace"]
    readonly_fields = ["prefix", "hashed_key", "last_used_at", "created_at"]
    exclude = []


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "workspace", "actor_label", "action", "object_type", "object_id"]
    list_filter = ["workspace", "action", "object_type"]
