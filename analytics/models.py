"""Quotas and new reps' ramps: the targets performance analytics measure against (DESIGN §10)."""

from django.core.exceptions import ValidationError
from django.db import models


class Quota(models.Model):
    """A target amount for one territory or one member over a period of dates (inclusive).
    Analytics prorate it month by month over the period asked for."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    territory = models.ForeignKey(
        "territories.Territory",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="quotas",
    )
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.CASCADE, related_name="quotas"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["period_start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(territory__isnull=False, member__isnull=True)
                    | models.Q(territory__isnull=True, member__isnull=False)
                ),
                name="quota_territory_xor_member",
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="quota_period_ordered",
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="quota_amount_positive"),
            models.UniqueConstraint(
                fields=["workspace", "territory", "period_start", "period_end"],
                condition=models.Q(territory__isnull=False),
                name="uniq_quota_territory_period",
            ),
            models.UniqueConstraint(
                fields=["workspace", "member", "period_start", "period_end"],
                condition=models.Q(member__isnull=False),
                name="uniq_quota_member_period",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "period_start", "period_end"])]

    def __str__(self) -> str:
        whose = self.territory or self.member
        return f"{whose} {self.period_start}…{self.period_end}: {self.amount}"


def _percentages_valid(value) -> None:
    if not isinstance(value, list) or not value or len(value) > 24:
        raise ValidationError("a list of 1 to 24 percentages, one per ramp month")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= 100:
            raise ValidationError("each ramp month's percentage is a whole number 0 to 100")


class MemberRamp(models.Model):
    """A new rep's ramp: in the n-th calendar month from `start_date` (the month of the start
    date is month 1) their quota counts `month_percentages[n-1]` %; before the start date 0 %,
    after the ramp 100 %."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    member = models.OneToOneField("members.Member", on_delete=models.CASCADE, related_name="ramp")
    start_date = models.DateField()
    month_percentages = models.JSONField(validators=[_percentages_valid])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start_date", "id"]

    def __str__(self) -> str:
        months = len(self.month_percentages)
        return f"{self.member} ramps from {self.start_date} over {months} months"

    @property
    def ramp_months(self) -> int:
        return len(self.month_percentages)
