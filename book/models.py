"""The book: the accounts and opportunities territory management governs (DESIGN §7)."""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce


class AccountStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    ORPHANED = "orphaned", "Orphaned (no territory)"
    VACANT = "vacant", "Vacant territory (no eligible owner)"


class Account(models.Model):
    workspace = models.ForeignKey(
        "revorg.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    crm_provider = models.CharField(max_length=16, blank=True, default="")  # '' for CSV
    crm_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True, default="")
    domain = models.CharField(max_length=255, blank=True, default="")
    # The rule fields territories match on (country, state, industry, employees, …).
    fields = models.JSONField(default=dict, blank=True)
    # Every read is workspace-scoped and served by the composite indexes (Meta), which also
    # serve the foreign keys' SET NULL on delete: no single-column index on the columns
    # re-evaluation writes (each index is one more insert per account it changes; the
    # runner-up's is partial).
    territory = models.ForeignKey(
        "territories.Territory",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # The next candidate territory when several matched (coverage reports the conflict).
    runner_up = models.ForeignKey(
        "territories.Territory",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    owner = models.ForeignKey(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    crm_owner_id = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=AccountStatus.choices, default=AccountStatus.ORPHANED
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    # The plan (id and version) its territory was last resolved under; '' once its fields
    # change. Re-evaluation resolves again only the accounts whose key is not the active
    # plan's (and checks the others' owners set-based), so a rerun costs SQL, not Python.
    evaluated_key = models.CharField(max_length=64, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        # On Postgres the primary key and `uniq_account_crm_id` keep half of each index page
        # free (migration 0012): every account a re-evaluation changes adds a new entry
        # beside its old one.
        constraints = [
            # CRM id before provider: it also serves the lookups by CRM id alone (deals to
            # their accounts), so no second index is written on every re-evaluated account.
            models.UniqueConstraint(
                fields=["workspace", "crm_id", "crm_provider"], name="uniq_account_crm_id"
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "territory"]),
            models.Index(fields=["workspace", "owner"]),
            # Only the accounts with a runner-up: the conflicts (coverage), and a deleted
            # territory's SET NULL.
            models.Index(
                fields=["runner_up"],
                condition=Q(runner_up__isnull=False),
                name="account_runner_up",
            ),
            # The orphaned and vacant accounts (coverage); a first assignment makes most of
            # the book `assigned`, and those are not each inserted here.
            models.Index(
                fields=["workspace", "status"],
                condition=~Q(status=AccountStatus.ASSIGNED),
                name="account_not_assigned",
            ),
            # The orphaned accounts of a map region (geo.selectors.map_region) without
            # reading the account heap.
            models.Index(
                fields=["workspace", "id"],
                include=["name", "crm_id", "owner"],
                condition=Q(status=AccountStatus.ORPHANED),
                name="account_orphaned",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.crm_id


class Opportunity(models.Model):
    workspace = models.ForeignKey(
        "revorg.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    crm_provider = models.CharField(max_length=16, blank=True, default="")
    crm_id = models.CharField(max_length=255)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="opportunities")
    name = models.CharField(max_length=255, blank=True, default="")
    owner = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stage = models.CharField(max_length=100, blank=True, default="")
    probability = models.PositiveSmallIntegerField(null=True, blank=True)
    amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    close_date = models.DateField(null=True, blank=True)
    is_closed = models.BooleanField(default=False)
    is_won = models.BooleanField(default=False)
    created_date = models.DateField(null=True, blank=True)
    closed_date = models.DateField(null=True, blank=True)
    # The account's territory when the deal closed (analytics credit the territory of then).
    closed_territory = models.ForeignKey(
        "territories.Territory",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-close_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "crm_provider", "crm_id"], name="uniq_opportunity_crm_id"
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "account", "is_closed"]),
            models.Index(fields=["workspace", "owner"]),
            # The closed deals that do not know their territory yet: what re-evaluation
            # probes for each account it changes (few once a book has been assigned).
            models.Index(
                fields=["account"],
                condition=Q(is_closed=True, closed_territory__isnull=True),
                name="opportunity_closed_unplaced",
            ),
            # Analytics of a period (analytics.selectors) read a period's deals from these
            # alone (index-only scans): the open ones by expected close date, the closed
            # ones by the date they count on (closed date, else expected close date).
            models.Index(
                fields=["workspace", "close_date"],
                include=["account", "owner", "amount"],
                condition=Q(is_closed=False),
                name="opportunity_open_by_close",
            ),
            models.Index(
                F("workspace"),
                Coalesce("closed_date", "close_date"),
                include=[
                    "closed_territory",
                    "owner",
                    "account",
                    "amount",
                    "is_won",
                    "created_date",
                    "closed_date",
                    "close_date",
                ],
                condition=Q(is_closed=True),
                name="opportunity_closed_by_date",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.crm_id


class AccountOverlay(models.Model):
    """A member shown as an overlay on one account until a time (never its owner): the old
    owner of an account a plan transition moved, during the transition's overlap. Expired
    rows are removed by a periodic task; until then readers also ignore them."""

    workspace = models.ForeignKey(
        "revorg.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="member_overlays")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    until = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["until", "id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "member"], name="uniq_account_overlay")
        ]
        # Read by account (the unique pair's index); no (workspace, account) index written
        # for each of an activation's hundreds of thousands of overlays.
        indexes = [models.Index(fields=["until"])]

    def __str__(self) -> str:
        return f"{self.member_id} on {self.account_id} until {self.until:%Y-%m-%d}"
