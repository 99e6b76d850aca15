"""Plan activations and their transitions (DESIGN §8 "Scheduled activation").

Every activation is recorded (who, when, effective date, what it moved), so that the plan in
force at any moment is known after mid-year changes; a `manual` transition leaves each open
deal it would move as a `TransitionMove` for a manager to apply or dismiss.
"""

from django.db import models


class OpenDealPolicy(models.TextChoices):
    FOLLOW_REP = "follow_rep", "Deals stay with the old owner"
    FOLLOW_TERRITORY = "follow_territory", "Deals move with the account"
    STAGE_BASED = "stage_based", "Deals at or past a stage stay, earlier ones move"
    MANUAL = "manual", "Each move is queued for a manager"


class ActivationStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    UNSCHEDULED = "unscheduled", "Unscheduled"
    ACTIVATED = "activated", "Activated"


class Activation(models.Model):
    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(
        "territories.TerritoryPlan", on_delete=models.CASCADE, related_name="activations"
    )
    # The plan it replaced (null: none was active, or not yet known while scheduled).
    previous_plan = models.ForeignKey(
        "territories.TerritoryPlan",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(max_length=16, choices=ActivationStatus.choices)
    effective_at = models.DateTimeField()
    open_deals = models.CharField(
        max_length=20, choices=OpenDealPolicy.choices, default=OpenDealPolicy.FOLLOW_REP
    )
    # {"probability": 60} or {"stage": "Negotiation"} (stage_based only).
    stage_threshold = models.JSONField(null=True, blank=True)
    # For a stage threshold: the lowest probability seen at that stage when the plan
    # activated (deals at that probability or above count as at or past the stage).
    stage_probability = models.PositiveSmallIntegerField(null=True, blank=True)
    overlap_days = models.PositiveSmallIntegerField(default=0)
    notify = models.BooleanField(default=True)
    requested_by = models.CharField(max_length=200, blank=True, default="")
    requested_at = models.DateTimeField(auto_now_add=True)
    activated_by = models.CharField(max_length=200, blank=True, default="")
    activated_at = models.DateTimeField(null=True, blank=True)
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The job's result when it finished: accounts and deals moved, kept, queued, overlays.
    counts = models.JSONField(default=dict, blank=True)
    digests_sent = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace"],
                condition=models.Q(status="scheduled"),
                name="one_scheduled_activation_per_workspace",
            )
        ]
        indexes = [
            models.Index(fields=["status", "effective_at"]),
            models.Index(fields=["workspace", "-effective_at"]),
        ]

    def __str__(self) -> str:
        return f"activation of plan {self.plan_id} ({self.status})"

    @property
    def transition_label(self) -> str:
        """Short, for tables: `stage_based ≥ 60 %`, `follow_rep · overlap 30 d`."""
        label = self.open_deals
        threshold = self.stage_threshold or {}
        if "probability" in threshold:
            label += f" ≥ {threshold['probability']} %"
        elif "stage" in threshold:
            label += f" ≥ {threshold['stage']}"
        if self.overlap_days:
            label += f" · overlap {self.overlap_days} d"
        return label

    @property
    def transition(self) -> dict:
        return {
            "open_deals": self.open_deals,
            "stage_threshold": self.stage_threshold,
            "overlap_days": self.overlap_days,
            "notify": self.notify,
        }


class MemberImpact(models.Model):
    """What one activation did to one member's book: the digest's content."""

    activation = models.ForeignKey(Activation, on_delete=models.CASCADE, related_name="impacts")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    accounts_in = models.PositiveIntegerField(default=0)
    accounts_out = models.PositiveIntegerField(default=0)
    deals_in = models.PositiveIntegerField(default=0)
    deals_out = models.PositiveIntegerField(default=0)
    deals_kept = models.PositiveIntegerField(default=0)
    deals_queued = models.PositiveIntegerField(default=0)
    # A few account names of each direction, for the digest (the counts are complete).
    examples_in = models.JSONField(default=list, blank=True)
    examples_out = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["activation", "member"]
        constraints = [
            models.UniqueConstraint(fields=["activation", "member"], name="uniq_impact_member")
        ]

    def __str__(self) -> str:
        return f"impact on {self.member_id} of {self.activation_id}"


class MoveStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPLIED = "applied", "Applied"
    DISMISSED = "dismissed", "Dismissed"


class TransitionMove(models.Model):
    """An open deal a `manual` transition would move to the account's new owner: a manager
    applies it (the deal changes owner, written back) or dismisses it (it stays)."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    activation = models.ForeignKey(Activation, on_delete=models.CASCADE, related_name="moves")
    opportunity = models.ForeignKey("book.Opportunity", on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey("book.Account", on_delete=models.CASCADE, related_name="+")
    from_member = models.ForeignKey(
        "members.Member", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_member = models.ForeignKey(
        "members.Member", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=MoveStatus.choices, default=MoveStatus.PENDING)
    decided_by = models.CharField(max_length=200, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["activation", "opportunity"], name="uniq_move_per_activation_deal"
            )
        ]
        indexes = [models.Index(fields=["workspace", "status"])]

    def __str__(self) -> str:
        return f"move of deal {self.opportunity_id} ({self.status})"
