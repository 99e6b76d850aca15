"""Planning: simulation of a plan against the whole book, nothing written to the book.

A simulation job writes each account's outcome under the simulated plan into an UNLOGGED
scratch table (no WAL: it is a cache of a job's result, rebuilt by rerunning the job), which
the job then aggregates and the moves CSV and the comparison page read.
"""

from django.db import models


class SimulatedAccount(models.Model):
    """One account as the simulated plan would leave it. Plain ids, no foreign keys: the
    book and the plans move on while the rows stay a picture of one moment, and a job's
    million rows are removed by one DELETE rather than the ORM's cascade."""

    workspace = models.ForeignKey(
        "revorg.Workspace",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    job_id = models.BigIntegerField()
    account_id = models.BigIntegerField()
    territory_id = models.BigIntegerField(null=True)
    owner_id = models.BigIntegerField(null=True)
    status = models.CharField(max_length=16)  # assigned | orphaned | vacant
    # The account as its chunk read it: territory and owner before, open deals and pipeline
    # (the aggregation then reads this table alone, not a join with the book and its deals).
    territory_before = models.BigIntegerField(null=True)
    owner_before = models.BigIntegerField(null=True)
    deals = models.IntegerField(default=0, db_default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=0, db_default=0)
    conflict = models.BooleanField(default=False)  # several territories matched

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job_id", "account_id"], name="uniq_simulated_account")
        ]

    def __str__(self) -> str:
        return f"account {self.account_id} in simulation job {self.job_id}"


class SimulationState(models.Model):
    """A running simulation's shared picture of distribution: rotation pointers and how many
    accounts each member gains or loses so far. Its row lock serialises the chunks' picks,
    as the territories' advisory locks do for a real re-evaluation."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="+")
    plan_id = models.BigIntegerField()
    owned_before = models.JSONField(default=dict)  # member id -> accounts owned in the book
    owned_delta = models.JSONField(default=dict)  # member id -> gained minus lost so far
    rotations = models.JSONField(default=dict)  # territory id -> [pointer, {member: current}]

    def __str__(self) -> str:
        return f"simulation state of job {self.job_id}"
