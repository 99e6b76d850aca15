"""Sales reps and managers, usually imported from a CRM, enriched with local metadata."""

from django.db import models


class CrmProvider(models.TextChoices):
    NONE = "", "None"
    SALESFORCE = "salesforce", "Salesforce"
    HUBSPOT = "hubspot", "HubSpot"


class Member(models.Model):
    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254, blank=True)
    title = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=100, blank=True, help_text="e.g. AE, SDR, manager")
    timezone = models.CharField(max_length=64, default="UTC")
    is_active = models.BooleanField(default=True)
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    crm_provider = models.CharField(
        max_length=16, choices=CrmProvider.choices, blank=True, default=""
    )
    crm_user_id = models.CharField(max_length=64, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    # When the member works, per weekday in their zone: {"mon": [["09:00", "17:00"]], ...};
    # {} = round the clock. SLA clocks count only this time (holidays are absences).
    working_hours = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["workspace", "name"]),
            models.Index(fields=["workspace", "email"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "crm_provider", "crm_user_id"],
                condition=~models.Q(crm_user_id=""),
                name="uniq_member_crm_user_per_workspace",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Absence(models.Model):
    """Time off: the member is not eligible for allocation while now is in [starts_at, ends_at)."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="absences")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["member", "starts_at", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="absence_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} off {self.starts_at:%Y-%m-%d}–{self.ends_at:%Y-%m-%d}"
