from django.contrib import admin

from .models import Activation, TransitionMove


@admin.register(Activation)
class ActivationAdmin(admin.ModelAdmin):
    list_display = ["id", "workspace", "plan", "status", "effective_at", "activated_at"]
    list_filter = ["status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TransitionMove)
class TransitionMoveAdmin(admin.ModelAdmin):
    list_display = ["id", "workspace", "activation", "opportunity", "status"]
    list_filter = ["status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
