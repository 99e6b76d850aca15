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
    # A drain's lease: the row is being sent until then. Set when claimed (committed before
    # the CRM call), cleared with the outcome; once expired (a crashed drain) the row can be
    # claimed again. Also the claim's token: outcomes are recorded only under the same value.
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["workspace", "provider", "record_type", "record_id"]),
            # Only rows a drain holds: which records are in flight, read by every claim.
            models.Index(
                fields=["workspace", "claimed_until"],
                condition=models.Q(claimed_until__isnull=False),
                name="crm_writeback_in_flight",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.record_type} {self.record_id} → {self.owner_crm_user_id}"


class CrmProvider(models.TextChoices):
    SALESFORCE = "salesforce", "Salesforce"
    HUBSPOT = "hubspot", "HubSpot"


class CrmConnection(models.Model):
    """One CRM a workspace syncs members from and writes owners back to. Credentials are
    stored Fernet-encrypted (see crm_sync.crypto) and never leave the server."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=16, choices=CrmProvider.choices)
    name = models.CharField(max_length=200, blank=True, default="")
    # instance_url, login_url, api_version, base_url, sync_interval_minutes …
    settings = models.JSONField(default=dict)
    credentials_encrypted = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=True)
    # The CRM refused the credentials: write-backs wait (pending) and the sweeper skips the
    # connection until new credentials are saved or a test succeeds.
    needs_reauth = models.BooleanField(default=False)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.provider} connection {self.pk}"


class SyncKind(models.TextChoices):
    SYNC = "sync", "Members and pipeline"
    MEMBERS = "members", "Members"
    PIPELINE = "pipeline", "Pipeline"
    WRITEBACK = "writeback", "Write-back"


class SyncRun(models.Model):
    """One sync or drain run with its counts and errors, so admins can see what happened."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(
        CrmConnection, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    kind = models.CharField(max_length=16, choices=SyncKind.choices)
    status = models.CharField(max_length=16, default="queued")  # queued/running/succeeded/failed
    counts = models.JSONField(default=dict)
    errors = models.JSONField(default=list)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} run {self.pk} ({self.status})"
