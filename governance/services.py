"""Writes for the people of a workspace: invite, change role / linked member / territory,
deactivate. Each is audited; none may leave a workspace without an active admin."""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from revorg.errors import ApplicationError, ConflictError
from revorg.models import Role, Workspace, WorkspaceMembership
from revorg.services import Actor, audit_record

UNSET = object()

# (uid, token) -> the absolute URL of the set-password page for them
LinkBuilder = Callable[[str, str], str]


@dataclass(frozen=True)
class Invitation:
    membership: WorkspaceMembership
    created_user: bool  # a new person (set-password link) or one of another workspace (login)


def _membership_state(membership: WorkspaceMembership) -> dict:
    return {
        "email": membership.user.email,
        "role": membership.role,
        "member": membership.member_id,
        "territory": membership.territory_id,
        "is_active": membership.is_active,
    }


def _workspace_locked(workspace: Workspace) -> Workspace:
    """Serialises every change of a workspace's people: the last-admin count read next is
    then still true when the change commits (two admins demoting each other at once)."""
    return Workspace.objects.select_for_update().get(pk=workspace.pk)


def _email_clean(email) -> str:
    if not isinstance(email, str) or not email.strip():
        raise ApplicationError("an e-mail address is required", field="email")
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ApplicationError(f"'{email[:254]}' is not an e-mail address", field="email") from exc
    return email.lower()


def _role_clean(role) -> str:
    if role not in Role.values:
        raise ApplicationError(
            f"unknown role '{str(role)[:32]}'; choose from {', '.join(Role.values)}", field="role"
        )
    return role


def _links_check(*, workspace, membership_pk, role, member, territory) -> None:
    """A member is one person: linked to at most one user of the workspace. A director's
    scope is a territory subtree, so a director needs one; other roles carry none."""
    if member is not None:
        if member.workspace_id != workspace.pk:
            raise ApplicationError("no such member in this workspace", field="member")
        taken = (
            WorkspaceMembership.objects.filter(workspace=workspace, member=member)
            .exclude(pk=membership_pk)
            .select_related("user")
            .first()
        )
        if taken is not None:
            raise ApplicationError(
                f"member '{member.name}' is already linked to {taken.user.email or taken.user}",
                field="member",
            )
    if territory is not None and territory.workspace_id != workspace.pk:
        raise ApplicationError("no such territory in this workspace", field="territory")
    if role == Role.DIRECTOR and territory is None:
        raise ApplicationError("a director needs a territory: their scope", field="territory")
    if role != Role.DIRECTOR and territory is not None:
        raise ApplicationError("only a director has a territory", field="territory")


def _last_admin_guard(membership: WorkspaceMembership, *, role: str, is_active: bool) -> None:
    was_admin = membership.is_active and membership.role == Role.ADMIN
    if not was_admin or (is_active and role == Role.ADMIN):
        return
    others = (
        WorkspaceMembership.objects.filter(
            workspace_id=membership.workspace_id,
            role=Role.ADMIN,
            is_active=True,
            user__is_active=True,
        )
        .exclude(pk=membership.pk)
        .exists()
    )
    if not others:
        raise ConflictError(
            f"{membership.user.email or membership.user} is the last admin of this workspace; "
            "make another user admin first"
        )


def _user_login_sync(user) -> None:
    """A person logs in while one workspace keeps them active; with none, login is refused
    (Django refuses inactive users, and their sessions end)."""
    active = WorkspaceMembership.objects.filter(user=user, is_active=True).exists()
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])


def set_password_path_parts(user) -> tuple[str, str]:
    """The uid and token of a set-password link (Django's password-reset tokens: single use,
    they lapse once the password changes, and after PASSWORD_RESET_TIMEOUT)."""
    return urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)


def invitation_send(*, membership: WorkspaceMembership, link: str, invited_by: str) -> None:
    context = {
        "workspace": membership.workspace,
        "role": membership.role,
        "link": link,
        "invited_by": invited_by,
        "has_password": membership.user.has_usable_password(),
        "timeout_days": round(settings.PASSWORD_RESET_TIMEOUT / 86400),
    }
    send_mail(
        subject=f"You are invited to {membership.workspace.name} on revorg",
        message=render_to_string("governance/invitation_email.txt", context),
        from_email=None,
        recipient_list=[membership.user.email],
    )


@transaction.atomic
def user_invite(
    *,
    workspace: Workspace,
    actor: Actor,
    email,
    role,
    member=None,
    territory=None,
    set_password_link: LinkBuilder,
    login_link: str,
) -> Invitation:
    """Adds a person to the workspace and e-mails them (after commit). A new address gets a
    user without a password and a set-password link; a user of another workspace gets the
    membership and a login link; a user already in this workspace is a conflict."""
    email = _email_clean(email)
    role = _role_clean(role)
    workspace = _workspace_locked(workspace)
    _links_check(
        workspace=workspace, membership_pk=None, role=role, member=member, territory=territory
    )
    user_model = get_user_model()
    user = user_model.objects.filter(email__iexact=email).order_by("pk").first()
    created_user = user is None
    if created_user:
        if user_model.objects.filter(username__iexact=email).exists():
            raise ConflictError(f"a user named '{email}' already exists")
        user = user_model(username=email, email=email)
        user.set_unusable_password()
        user.save()
    elif WorkspaceMembership.objects.filter(workspace=workspace, user=user).exists():
        raise ConflictError(f"{email} is already a user of this workspace")
    membership = WorkspaceMembership.objects.create(
        workspace=workspace, user=user, role=role, member=member, territory=territory
    )
    _user_login_sync(user)
    audit_record(
        workspace=workspace,
        actor=actor,
        action="invite",
        obj=membership,
        after=_membership_state(membership),
    )
    if user.has_usable_password():
        link = login_link
    else:
        link = set_password_link(*set_password_path_parts(user))
    transaction.on_commit(
        lambda: invitation_send(membership=membership, link=link, invited_by=actor.label)
    )
    return Invitation(membership=membership, created_user=created_user)


@transaction.atomic
def invitation_resend(
    *, membership: WorkspaceMembership, actor: Actor, set_password_link: LinkBuilder
) -> WorkspaceMembership:
    """A new set-password link for a person who has not chosen a password yet, e-mailed
    (after commit). Their unusable password is drawn again, which the token of every earlier
    link was computed from: the links sent before stop working (Django's password-reset
    tokens hash the password field). Refused (409) once they have a password (they log in,
    or use "forgot password") and while their membership is deactivated."""
    _workspace_locked(membership.workspace)
    membership = WorkspaceMembership.objects.select_related("user", "workspace").get(
        pk=membership.pk
    )
    user = membership.user
    if user.has_usable_password():
        raise ConflictError(f"{user.email or user} has already set a password: they can log in")
    if not membership.is_active:
        raise ConflictError(f"{user.email or user} is deactivated: reactivate them first")
    if not user.email:
        raise ApplicationError(f"{user} has no e-mail address to send the invitation to")
    user.set_unusable_password()
    user.save(update_fields=["password"])
    audit_record(
        workspace=membership.workspace,
        actor=actor,
        action="reinvite",
        obj=membership,
        after=_membership_state(membership),
    )
    link = set_password_link(*set_password_path_parts(user))
    transaction.on_commit(
        lambda: invitation_send(membership=membership, link=link, invited_by=actor.label)
    )
    return membership


@transaction.atomic
def user_update(
    *,
    membership: WorkspaceMembership,
    actor: Actor,
    role=UNSET,
    member=UNSET,
    territory=UNSET,
    is_active=UNSET,
) -> WorkspaceMembership:
    """Changes a person's role, linked member, director territory or active state in one
    workspace. Refused with 409 when it would leave the workspace without an active admin."""
    _workspace_locked(membership.workspace)
    membership = WorkspaceMembership.objects.select_related("user", "workspace").get(
        pk=membership.pk
    )
    before = _membership_state(membership)
    new_role = membership.role if role is UNSET else _role_clean(role)
    new_member = membership.member if member is UNSET else member
    if territory is UNSET:
        new_territory = membership.territory if new_role == Role.DIRECTOR else None
    else:
        new_territory = territory
    new_active = membership.is_active if is_active is UNSET else bool(is_active)
    _links_check(
        workspace=membership.workspace,
        membership_pk=membership.pk,
        role=new_role,
        member=new_member,
        territory=new_territory,
    )
    _last_admin_guard(membership, role=new_role, is_active=new_active)
    membership.role = new_role
    membership.member = new_member
    membership.territory = new_territory
    membership.is_active = new_active
    membership.save(update_fields=["role", "member", "territory", "is_active"])
    _user_login_sync(membership.user)
    after = _membership_state(membership)
    if after != before:
        audit_record(
            workspace=membership.workspace,
            actor=actor,
            action="update",
            obj=membership,
            before=before,
            after=after,
        )
    return membership
