"""Reassignment requests: a proposed owner change with its impact and approvals (DESIGN §9)."""

from django.conf import settings
from django.db import models


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved (runs at its effective date)"
    REJECTED = "rejected", "Rejected"
    EXECUTED = "executed", "Executed"
    CANCELLED = "cancelled", "Cancelled"


class OpenDeals(models.TextChoices):
    FOLLOW_REP = "follow_rep", "Open deals stay with their owner"
    FOLLOW_TERRITORY = "follow_territory", "Open deals move with the account"


class ReassignmentRequest(models.Model):
    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    to_member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    # "All accounts of rep X in territory Y" as asked (the accounts are resolved on creation).
    from_member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    territory = models.ForeignKey(
        "territories.Territory",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.TextField()
    effective_at = models.DateTimeField()
    open_deals = models.CharField(
        max_length=24, choices=OpenDeals.choices, default=OpenDeals.FOLLOW_REP
    )
    # {accounts, open_deals, open_pipeline, pending_allocations}, computed when requested.
    impact = models.JSONField(default=dict)
    # Whose approval it needs: ["incoming:<member id>", "outgoing:<member id>", ...]; an
    # admin's approval settles every one.
    required_approvals = models.JSONField(default=list)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_api_key = models.ForeignKey(
        "revorg.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    # {moved, failed, deals_moved}: what execution did.
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "status", "effective_at"]),
            models.Index(
                fields=["effective_at"],
                condition=models.Q(status="approved"),
                name="reassign_req_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Reassignment request {self.pk} → {self.to_member_id} ({self.status})"


class ItemKind(models.TextChoices):
    ACCOUNT = "account", "Account"
    ALLOCATION = "allocation", "Allocation"


class ItemStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ReassignmentItem(models.Model):
    """One account or allocation of a request, and what executing it did."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(ReassignmentRequest, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=16, choices=ItemKind.choices)
    account = models.ForeignKey(
        "book.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    allocation = models.ForeignKey(
        "allocation.Allocation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The owner when requested (whose manager approves under `both_managers`).
    from_member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    detail = models.CharField(max_length=500, blank=True, default="")
    new_allocation = models.ForeignKey(
        "allocation.Allocation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.account_id or self.allocation_id} of request {self.request_id}"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approved"
    REJECT = "reject", "Rejected"


class ReassignmentApproval(models.Model):
    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(
        ReassignmentRequest, on_delete=models.CASCADE, related_name="approvals"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approver_label = models.CharField(max_length=200)
    # Which required approvals this one settles (an admin's: all of them).
    settles = models.JSONField(default=list)
    decision = models.CharField(max_length=8, choices=Decision.choices)
    comment = models.TextField(blank=True, default="")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decided_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "approver"], name="uniq_reassignment_approval_per_approver"
            )
        ]

    def __str__(self) -> str:
        return f"{self.approver_label} {self.decision} request {self.request_id}"
