"""What a replay found: the history rows a plan would have sent elsewhere (the job's result
holds the per-rep summary; these rows are too many for it)."""

from django.db import models


class ReplayMove(models.Model):
    """One history row whose replayed owner differs from its real one."""

    # A replay writes up to one row per history row (COPY, 100,000 in a bench run): every
    # read goes through the job (the unique index leads with it), so no other index; the
    # references below are kept by Django's collector (SET_NULL, CASCADE), not by per-row
    # foreign-key triggers, and history rows are never deleted (PROTECT).
    workspace = models.ForeignKey(
        "revorg.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    job = models.ForeignKey(
        "jobs.Job", on_delete=models.CASCADE, related_name="replay_moves", db_index=False
    )
    # The row's place in the replayed history (1-based): the order of the list and what a
    # resumed replay deletes beyond its checkpoint.
    sequence = models.PositiveIntegerField()
    allocation = models.ForeignKey(
        "allocation.Allocation",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    allocated_at = models.DateTimeField()
    record_type = models.CharField(max_length=16)
    record_id = models.CharField(max_length=255, blank=True, default="")
    actual_owner = models.ForeignKey(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    replayed_owner = models.ForeignKey(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    replayed_territory = models.ForeignKey(
        "territories.Territory",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    replayed_status = models.CharField(max_length=16)

    class Meta:
        ordering = ["job", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["job", "sequence"], name="uniq_replay_move_sequence")
        ]

    def __str__(self) -> str:
        move = f"job {self.job_id} #{self.sequence}"
        return f"{move}: {self.actual_owner_id} → {self.replayed_owner_id}"
