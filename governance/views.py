"""The users page (admins): invite people, change their role, linked member and director
territory, deactivate them; and the set-password page an invitation links to."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from members.models import Member
from revorg.errors import ApplicationError
from revorg.models import Role, WorkspaceMembership
from revorg.parsing import parse_id
from revorg.permissions import role_required
from revorg.services import actor_from_request
from revorg.tenancy import workspace_object_or_404, workspace_rows
from territories.models import Territory
from territories.selectors import plan_get_active

from . import selectors, services
from .links import invitation_links

PICKER_LIMIT = 500


def _pick(request, model, field: str):
    """The member or territory a form names, of this workspace; None when left empty."""
    pk = parse_id(request.POST.get(field) or None, field=field)
    if pk is None:
        return None
    obj = workspace_rows(request, model).filter(pk=pk).first()
    if obj is None:
        raise ApplicationError(f"no such {field} in this workspace", field=field)
    return obj


def _page(request, *, errors=None, form=None, status=200):
    workspace = request.workspace
    active_plan = plan_get_active(workspace=workspace)
    users = list(selectors.user_membership_list(workspace=workspace))
    members = workspace_rows(request, Member).order_by("name", "id").values("id", "name", "email")
    # A workspace may have thousands of members: the picker offers the first active ones,
    # plus those already linked (so saving a row never unlinks one silently).
    picker = list(members.filter(is_active=True)[:PICKER_LIMIT])
    shown = {m["id"] for m in picker}
    picker += list(members.filter(pk__in={u.member_id for u in users} - shown - {None}))
    territories = workspace_rows(request, Territory).filter(
        Q(plan=active_plan) | Q(pk__in={u.territory_id for u in users} - {None})
    )
    context = {
        "users": users,
        "roles": Role.choices,
        "members": picker,
        "territories": list(territories.order_by("name", "id").values("id", "name")),
        "errors": errors or {},
        "form": form or {},
        "admin_count": selectors.active_admin_count(workspace=workspace),
    }
    return render(request, "governance/users.html", context, status=status)


@role_required("admin")
def user_index(request):
    if request.method != "POST":
        return _page(request)
    try:
        invitation = services.user_invite(
            workspace=request.workspace,
            actor=actor_from_request(request),
            email=request.POST.get("email", ""),
            role=request.POST.get("role", ""),
            member=_pick(request, Member, "member"),
            territory=_pick(request, Territory, "territory"),
            **invitation_links(request),
        )
    except ApplicationError as exc:
        return _page(
            request,
            errors={exc.field or "form": exc.message},
            form=request.POST,
            status=exc.status_code,
        )
    user = invitation.membership.user
    messages.success(
        request,
        f"Invitation sent to {user.email}."
        if invitation.created_user
        else f"{user.email} already had an account: added to this workspace and told by e-mail.",
    )
    return redirect("ui:users")


@role_required("admin")
@require_POST
def user_change(request, pk):
    membership = workspace_object_or_404(request, WorkspaceMembership, user_id=pk)
    changes = {}
    try:
        if "role" in request.POST:
            changes["role"] = request.POST["role"]
            changes["territory"] = _pick(request, Territory, "territory")
        if "member" in request.POST:
            changes["member"] = _pick(request, Member, "member")
        if "is_active" in request.POST:
            if request.POST["is_active"] not in ("0", "1"):
                raise ApplicationError("is_active must be 0 or 1", field="is_active")
            changes["is_active"] = request.POST["is_active"] == "1"
        services.user_update(membership=membership, actor=actor_from_request(request), **changes)
    except ApplicationError as exc:
        messages.error(request, f"Not saved: {exc.message}")
        return redirect("ui:users")
    messages.success(request, f"{membership.user.email or membership.user} saved.")
    return redirect("ui:users")


@require_POST
@role_required("admin")
def user_resend_invitation(request, pk):
    """A new set-password link for someone who has not set a password; the old one lapses."""
    membership = workspace_object_or_404(request, WorkspaceMembership, user_id=pk)
    try:
        services.invitation_resend(
            membership=membership,
            actor=actor_from_request(request),
            set_password_link=invitation_links(request)["set_password_link"],
        )
    except ApplicationError as exc:
        messages.error(request, f"Not sent: {exc.message}")
        return redirect("ui:users")
    messages.success(
        request,
        f"A new invitation went to {membership.user.email}; the link sent before no longer works.",
    )
    return redirect("ui:users")


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """An invitation's link: the person chooses a password, then logs in. The token is
    Django's password-reset token, so it works once and lapses after PASSWORD_RESET_TIMEOUT."""

    template_name = "governance/set_password.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Password set. Log in with your e-mail address.")
        return response
