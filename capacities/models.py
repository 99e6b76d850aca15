"""How much work a member may take: limits per window, and the CRM's open-deal snapshot."""

from django.core.validators import MinValueValidator
from django.db import models


class Period(models.TextChoices):
    DAY = "day", "Day"
    WEEK = "week", "Week"
    MONTH = "month", "Month"
    ROLLING = "rolling", "Rolling window"


class Source(models.TextChoices):
    ALLOCATIONS = "allocations", "Allocations in the window"
    OPEN_DEALS = "open_deals", "Open deals (pipeline snapshot)"
    # The book size a rep owns (no window): caps re-evaluation of accounts, not allocations.
    ACCOUNTS = "accounts", "Accounts owned (book)"


class Capacity(models.Model):
    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="capacities"
    )
    name = models.CharField(max_length=200, blank=True, default="")
    limit = models.PositiveIntegerField()
    period = models.CharField(max_length=16, choices=Period.choices, default=Period.DAY)
    # Only for `rolling`: the last N hours.
    window_hours = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    # Empty list: every record type counts.
    record_types = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.ALLOCATIONS)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["member_id", "id"]
        indexes = [models.Index(fields=["workspace", "member"])]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.limit}/{self.period}"


class PipelineSnapshot(models.Model):
    """Open deals per member as the CRM last reported them (model-based capacity)."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="pipeline_snapshots"
    )
    open_deals = models.PositiveIntegerField()
    taken_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-taken_at", "-id"]
        indexes = [models.Index(fields=["workspace", "member", "-taken_at"])]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.open_deals} open deals at {self.taken_at}"
