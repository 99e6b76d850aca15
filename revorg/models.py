"""Tenancy: workspaces, who may act in them (users with a role, API keys with scopes), audit."""

import calendar

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    """DESIGN §9. The rank orders what a role may change; what it may see is its scope."""

    VIEWER = "viewer", "Viewer"
    REP = "rep", "Rep"
    MANAGER = "manager", "Manager"
    DIRECTOR = "director", "Director"
    ADMIN = "admin", "Admin"


ROLE_RANK = {Role.VIEWER: 0, Role.REP: 1, Role.MANAGER: 2, Role.DIRECTOR: 3, Role.ADMIN: 4}


class Scope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    ALLOCATE = "allocate", "Allocate"


class ReassignmentApproval(models.TextChoices):
    """Who must approve a reassignment request (DESIGN §9); an admin may approve any."""

    NONE = "none", "None: approved when requested"
    INCOMING_MANAGER = "incoming_manager", "The new owner's manager"
    BOTH_MANAGERS = "both_managers", "The new owner's and the current owners' managers"


class Workspace(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    default_member = models.ForeignKey(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Owner of last resort when no territory, fallback or backup can take a record.",
    )
    # The book's owner changes are written back to the CRM only when this is on (default:
    # report only, DESIGN §7).
    account_ownership_writeback = models.BooleanField(default=False)
    # Quarters and months of analytics periods are counted from this month (1 = January).
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=1,
        choices=[(month, calendar.month_name[month]) for month in range(1, 13)],
        help_text="The month the fiscal year starts; quarters and months of analytics follow it.",
    )
    reassignment_approval = models.CharField(
        max_length=32,
        choices=ReassignmentApproval.choices,
        default=ReassignmentApproval.INCOMING_MANAGER,
        help_text="Who approves a reassignment request before it runs at its effective date "
        "(an admin may approve any; nobody approves their own).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WorkspaceMembership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workspace_memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    # The member this user is (a rep, a manager): the root of their scope and of "my queue".
    member = models.ForeignKey(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="memberships",
    )
    # A director's scope: this territory and its subtree.
    territory = models.ForeignKey(
        "territories.Territory",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Deactivated: the person no longer enters this workspace (and cannot log in at all when
    # no other workspace keeps them active); the row stays for the audit trail.
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="uniq_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"


class ApiKey(models.Model):
    """A workspace key. Only a SHA-256 of the secret is kept; the prefix identifies it in lists."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    hashed_key = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class AuditEntry(models.Model):
    """Who changed what configuration, with the object before and after (as the API shows it)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="audit_entries")
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=16)  # create / update / delete / or a verb
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_type}#{self.object_id}"


class UserPreference(models.Model):
    """A person's own settings, across workspaces: the zone times are shown in (empty until
    the browser reports its zone or the person picks one)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    timezone = models.CharField(max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.timezone or 'zone not set'})"
