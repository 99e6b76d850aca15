"""Where a record belongs: versioned plans of territories, their member slots and account locks.

Rules are JSON condition trees (DESIGN.md section 3); `territories.rules` validates them and
`territories.matching` compiles a whole plan for fast matching.
"""

from django.core.validators import MaxValueValidator
from django.db import models


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    # Activated at a future `effective_at` (transitions app): read-only until then or until
    # unscheduled.
    SCHEDULED = "scheduled", "Scheduled"
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


class TerritoryPlan(models.Model):
    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    effective_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    # Bumped on every change to the plan's territories, slots or locks: the matcher cache key.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace"],
                condition=models.Q(status="active"),
                name="one_active_plan_per_workspace",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class TerritoryKind(models.TextChoices):
    GEOGRAPHIC = "geographic", "Geographic"
    INDUSTRY = "industry", "Industry"
    COMPANY_SIZE = "company_size", "Company size"
    NAMED_ACCOUNT = "named_account", "Named accounts"
    HYBRID = "hybrid", "Hybrid"
    CUSTOM = "custom", "Custom"


class Distribution(models.TextChoices):
    ROUND_ROBIN = "round_robin", "Round robin"
    WEIGHTED = "weighted", "Weighted round robin"
    LEAST_LOADED = "least_loaded", "Least loaded"


class Territory(models.Model):
    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(TerritoryPlan, on_delete=models.CASCADE, related_name="territories")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(
        max_length=16, choices=TerritoryKind.choices, default=TerritoryKind.CUSTOM
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    priority = models.IntegerField(default=0)
    rule = models.JSONField(null=True, blank=True)
    named_accounts = models.JSONField(default=list, blank=True)
    member_rule = models.JSONField(null=True, blank=True)
    distribution = models.CharField(
        max_length=16, choices=Distribution.choices, default=Distribution.ROUND_ROBIN
    )
    fallback_member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    fallback_territory = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plan", "-priority", "name", "id"]
        indexes = [models.Index(fields=["workspace", "plan"])]
        verbose_name_plural = "territories"

    def __str__(self) -> str:
        return self.name


class SlotRole(models.TextChoices):
    PRIMARY = "primary", "Primary"
    BACKUP = "backup", "Backup"
    OVERLAY = "overlay", "Overlay"


class TerritorySlot(models.Model):
    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="slots")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="slots")
    role = models.CharField(max_length=16, choices=SlotRole.choices, default=SlotRole.PRIMARY)
    weight = models.PositiveIntegerField(default=1)
    position = models.PositiveIntegerField(default=0)
    # An overlay's share of the territory's won and pipeline amounts, on top of the owner's
    # 100 % (overlay split credit, DESIGN §10); primaries and backups carry 0.
    credit_percent = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)]
    )

    class Meta:
        ordering = ["territory", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "member", "role"], name="uniq_slot_member_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} as {self.role} in {self.territory}"


class AccountLock(models.Model):
    """A manual override: this account (domain or CRM account id) always goes to a territory."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    account = models.CharField(max_length=255, help_text="domain or CRM account id")
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="locks")
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "account"], name="uniq_lock_per_account")
        ]

    def __str__(self) -> str:
        return f"{self.account} → {self.territory}"
