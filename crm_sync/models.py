"""CRM connections, sync runs, and the write-back outbox that allocation fills."""

from django.db import models


class WritebackStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    # A later allocation of the same record replaced this one before it was written.
    SUPERSEDED = "superseded", "Superseded"


class WritebackOutbox(models.Model):
    """One owner to write to the CRM, written in the same transaction as its allocation, so a
    broker or CRM outage loses nothing: workers drain rows that are pending."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    allocation = models.OneToOneField(
        "allocation.Allocation", on_delete=models.CASCADE, related_name="writeback"
    )
    provider = models.CharField(max_length=16)  # salesforce / hubspot
    record_type = models.CharField(max_length=16)
    record_id = models.CharField(max_length=255)
    owner_crm_user_id = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=WritebackStatus.choices, default=WritebackStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["workspace", "provider", "record_type", "record_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.record_type} {self.record_id} → {self.owner_crm_user_id}"
