"""SLA policies and the clock each owned allocation runs under (DESIGN §9)."""

from django.db import models


class BreachAction(models.TextChoices):
    REASSIGN = "reassign", "Reassign to the next eligible member"
    ESCALATE = "escalate", "Escalate to the owner's manager"


class AcceptedVia(models.TextChoices):
    API = "api", "API"
    UI = "ui", "My queue"
    CRM = "crm", "CRM activity"


def default_record_types() -> list[str]:
    return ["lead", "contact"]


class SlaPolicy(models.Model):
    """How long an owner has to accept, in their working hours. A territory's policy covers
    it and its subtree (the nearest one wins); the workspace's (no territory) the rest."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    territory = models.ForeignKey(
        "territories.Territory",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    respond_within_minutes = models.PositiveIntegerField()
    remind_at_percent = models.PositiveSmallIntegerField(default=75)
    on_breach = models.CharField(
        max_length=16, choices=BreachAction.choices, default=BreachAction.REASSIGN
    )
    max_breaches = models.PositiveSmallIntegerField(default=2)
    # The allocations it covers: plays' records, not the book's re-evaluated accounts.
    record_types = models.JSONField(default=default_record_types)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "territory"], name="uniq_sla_policy_per_territory"
            ),
            models.UniqueConstraint(
                fields=["workspace"],
                condition=models.Q(territory__isnull=True),
                name="uniq_sla_policy_per_workspace",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SlaClock(models.Model):
    """The SLA of one allocation entry: started when the entry was made, due after the
    policy's working minutes, stopped by acceptance or acted on by the sweep. `breaches`
    counts the breaches of the record before this entry (a reassignment after a breach
    carries it on), so `max_breaches` bounds a record, not an entry."""

    workspace = models.ForeignKey(
        "revorg.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    allocation = models.OneToOneField(
        "allocation.Allocation", on_delete=models.CASCADE, related_name="sla"
    )
    policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="clocks"
    )
    owner = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    territory_id_at_start = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    remind_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_via = models.CharField(max_length=8, choices=AcceptedVia.choices, blank=True)
    accepted_by = models.CharField(max_length=200, blank=True, default="")
    breached_at = models.DateTimeField(null=True, blank=True)
    breaches = models.PositiveSmallIntegerField(default=0)
    # The entry stopped being current before it was accepted or breached (reassigned by a
    # person, re-allocated): the sweep stops looking at it.
    closed_at = models.DateTimeField(null=True, blank=True)
    # What the sweep did on breach, in words (also in the new entry's trace).
    outcome = models.CharField(max_length=500, blank=True, default="")
    # A CRM-signal acceptance compares against the record's status when first seen.
    crm_initial_status = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["remind_at"],
                condition=models.Q(
                    accepted_at__isnull=True,
                    reminded_at__isnull=True,
                    breached_at__isnull=True,
                    closed_at__isnull=True,
                ),
                name="sla_clock_remind_idx",
            ),
            models.Index(
                fields=["due_at"],
                condition=models.Q(
                    accepted_at__isnull=True, breached_at__isnull=True, closed_at__isnull=True
                ),
                name="sla_clock_due_idx",
            ),
            models.Index(fields=["workspace", "owner", "accepted_at"], name="sla_clock_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"SLA of allocation {self.allocation_id}"


class SlaSweepMark(models.Model):
    """How far the sweep has started clocks in a workspace (allocations created before it,
    minus a margin for transactions still open, are known)."""

    workspace = models.OneToOneField("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    started_through = models.DateTimeField()

    def __str__(self) -> str:
        return f"SLA clocks of {self.workspace_id} through {self.started_through}"
