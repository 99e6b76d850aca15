"""Allocation history: one immutable row per decision or reassignment."""

from django.db import models


class AllocationStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    FALLBACK = "fallback", "Fallback"
    UNASSIGNED = "unassigned", "Unassigned"


class RecordType(models.TextChoices):
    LEAD = "lead", "Lead"
    CONTACT = "contact", "Contact"
    ACCOUNT = "account", "Account"
    OPPORTUNITY = "opportunity", "Opportunity"


class Allocation(models.Model):
    # Every read is workspace-scoped and served by the composite indexes below, which also
    # lead with the workspace: no single-column index on it or on created_at (each index is
    # one more insert on every allocation).
    workspace = models.ForeignKey(
        "revorg.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    status = models.CharField(max_length=16, choices=AllocationStatus.choices)
    # Served by the (workspace, owner, created_at) index, which also serves the PROTECT
    # check when a member is deleted (rare): no single-column index on every entry.
    owner = models.ForeignKey(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # History is never rewritten: a territory that allocations name cannot be deleted.
    territory = models.ForeignKey(
        "territories.Territory",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    record_type = models.CharField(max_length=16, choices=RecordType.choices)
    record_id = models.CharField(max_length=255, blank=True, default="")
    record_crm = models.CharField(max_length=16, blank=True, default="")
    record_fields = models.JSONField(default=dict)
    decision = models.JSONField(default=list)
    overlays = models.JSONField(default=list)
    play_run_id = models.CharField(max_length=255, blank=True, default="")
    play_run_url = models.URLField(max_length=2000, blank=True, default="")
    # The entry this one reassigns (None for a first allocation).
    # These three are set on few entries (never by the book's re-evaluation): their indexes
    # are partial (Meta), so the book's million entries do not each insert into them.
    reassigned_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reassignments",
        db_index=False,
    )
    reason = models.TextField(blank=True, default="")
    # Who asked: a browser user or an API key (label kept if either is deleted).
    actor_user = models.ForeignKey(
        "auth.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    actor_api_key = models.ForeignKey(
        "revorg.ApiKey",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    actor_label = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    # The latest entry of its record (capacity counts only what a member currently owns).
    is_current = models.BooleanField(default=True)
    # Written by the book's re-evaluation (an account's owner): a rep's book is capped by an
    # `accounts` capacity, so routing capacities (and their index) leave these rows out.
    is_book = models.BooleanField(default=False, db_default=False)
    # What routing capacities count (a current entry of a play's allocation), kept by the
    # database. The capacity index names this rather than `is_current`: superseding a book
    # entry then changes no indexed value, so Postgres updates it in place (HOT) without
    # touching the history's indexes (the table keeps free space for it: migration 0008).
    routing_current = models.GeneratedField(
        expression=models.Q(is_current=True, is_book=False),
        output_field=models.BooleanField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "-created_at", "-id"]),
            models.Index(fields=["workspace", "record_type", "record_id"]),
            models.Index(fields=["workspace", "owner", "created_at"]),
            # What is read by status: the unassigned and fallback entries (the queue, the
            # console), not the book's million assigned ones.
            models.Index(
                fields=["workspace", "status"],
                condition=~models.Q(status="assigned"),
                name="alloc_not_assigned_idx",
            ),
            models.Index(
                fields=["workspace", "owner", "created_at"],
                condition=models.Q(routing_current=True),
                name="alloc_current_owner_idx",
            ),
            *(
                models.Index(
                    fields=[name],
                    condition=models.Q(**{f"{name}__isnull": False}),
                    name=f"alloc_{name}_idx",
                )
                for name in ("reassigned_from", "actor_user", "actor_api_key")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_id or '#' + str(self.pk)} → {self.status}"


class RotationState(models.Model):
    """Per-territory distribution state, read and written under the territory's advisory lock
    (strict rotation without blocking other territories); created by its first allocation."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    territory = models.OneToOneField(
        "territories.Territory", on_delete=models.CASCADE, related_name="rotation_state"
    )
    pointer_member_id = models.BigIntegerField(null=True, blank=True)
    current_weights = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"rotation of {self.territory_id} at {self.pointer_member_id}"


class IdempotencyRecord(models.Model):
    """The first response to an idempotency key, replayed for 24 h."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="uniq_idempotency_key")
        ]

    def __str__(self) -> str:
        return self.key
