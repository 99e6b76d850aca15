from django.contrib import admin

from .models import Job, JobChunk


class JobChunkInline(admin.TabularInline):
    model = JobChunk
    fields = ["index", "state", "size", "attempts", "lease_expires_at", "errors"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "workspace", "kind", "handler", "status", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    readonly_fields = ["progress_done", "progress_total", "result", "errors"]
    inlines = [JobChunkInline]
