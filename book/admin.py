from django.contrib import admin

from .models import Account, Opportunity


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "crm_id", "workspace", "territory", "owner", "status"]
    list_filter = ["status"]
    search_fields = ["name", "crm_id", "domain"]
    raw_id_fields = ["territory", "runner_up", "owner"]


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ["name", "crm_id", "workspace", "account", "owner", "amount", "is_closed"]
    raw_id_fields = ["account", "owner", "closed_territory"]
