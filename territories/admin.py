from django.contrib import admin

from .models import AccountLock, Territory, TerritoryPlan, TerritorySlot


class SlotInline(admin.TabularInline):
    model = TerritorySlot
    extra = 0
    raw_id_fields = ["member"]
    exclude = ["workspace"]


@admin.register(TerritoryPlan)
class TerritoryPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "status", "version", "activated_at"]
    list_filter = ["workspace", "status"]


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "kind", "priority", "distribution", "is_active"]
    list_filter = ["workspace", "kind", "is_active"]
    search_fields = ["name"]
    raw_id_fields = ["parent", "fallback_member", "fallback_territory", "plan"]
    inlines = [SlotInline]

    def save_formset(self, request, form, formset, change):
        for slot in formset.save(commit=False):
            slot.workspace_id = form.instance.workspace_id
            slot.save()
        for slot in formset.deleted_objects:
            slot.delete()


@admin.register(AccountLock)
class AccountLockAdmin(admin.ModelAdmin):
    list_display = ["account", "territory", "workspace", "reason"]
    search_fields = ["account"]
    raw_id_fields = ["territory"]
