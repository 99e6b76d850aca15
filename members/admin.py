from django.contrib import admin

from .models import Absence, Member


class AbsenceInline(admin.TabularInline):
    model = Absence
    extra = 0
    fields = ["starts_at", "ends_at", "reason"]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "workspace", "role", "timezone", "is_active", "crm_provider"]
    list_filter = ["workspace", "is_active", "crm_provider"]
    search_fields = ["name", "email", "crm_user_id"]
    raw_id_fields = ["manager"]
    inlines = [AbsenceInline]

    def save_formset(self, request, form, formset, change):
        for absence in formset.save(commit=False):
            absence.workspace = form.instance.workspace
            absence.save()
        formset.save_m2m()
        for absence in formset.deleted_objects:
            absence.delete()
