"""Accounts and opportunities in the Django admin: read-only. An owner change has one home
(re-evaluation, reassignment) that writes its history entry, audit and write-back."""

from django.contrib import admin

from revorg.admin import ReadOnlyAdminMixin

from .models import Account, Opportunity


@admin.register(Account)
class AccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "crm_id", "workspace", "territory", "owner", "status"]
    list_filter = ["status"]
    search_fields = ["name", "crm_id", "domain"]
    raw_id_fields = ["territory", "runner_up", "owner"]


@admin.register(Opportunity)
class OpportunityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "crm_id", "workspace", "account", "owner", "amount", "is_closed"]
    raw_id_fields = ["account", "owner", "closed_territory"]
