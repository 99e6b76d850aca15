"""People of a workspace through `/api/v1/users/` (API.md): invitations with a set-password
link that works once, role / member / territory changes, deactivation that refuses login,
and a last admin who can be neither demoted nor deactivated."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from revorg.models import AuditEntry, WorkspaceMembership
from tests.factories import MemberFactory, MembershipFactory, TerritoryFactory, UserFactory

pytestmark = pytest.mark.django_db
USERS = "/api/v1/users/"
INVITE = "/api/v1/users/invite/"
PASSWORD = "a-long-Passphrase-42"


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def _login(client: Client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


@pytest.fixture
def admin(user_client, workspace):
    return user_client(workspace, role="admin")


def test_an_invited_person_sets_a_password_with_the_emailed_link_and_logs_in(
    admin, workspace, django_capture_on_commit_callbacks
):
    rep = MemberFactory(workspace=workspace, name="Ada")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            INVITE, {"email": "Ada@Example.com", "role": "rep", "member": rep.pk}, format="json"
        )

    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("email", "role", "member", "territory", "is_active")} == {
        "email": "ada@example.com",
        "role": "rep",
        "member": rep.pk,
        "territory": None,
        "is_active": True,
    }
    [message] = mail.outbox
    assert message.to == ["ada@example.com"] and workspace.name in message.subject
    person = Client()
    form = person.get(_link(message), follow=True)
    assert b"Choose your password" in form.content
    done = person.post(
        form.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD}
    )
    assert done.status_code == 302 and done["Location"] == "/login/"
    assert _login(person, "ada@example.com", PASSWORD)["Location"] == "/"
    assert person.get("/api/v1/members/").json()["results"][0]["name"] == "Ada"  # a rep: self
    again = Client().get(_link(message), follow=True)
    assert b"This link no longer works" in again.content  # the token is single use
    assert AuditEntry.objects.filter(workspace=workspace, action="invite").count() == 1


def test_inviting_a_user_of_another_workspace_adds_the_membership(
    admin, workspace, other_workspace, django_capture_on_commit_callbacks
):
    elsewhere = MembershipFactory(workspace=other_workspace, user__email="bo@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(INVITE, {"email": "BO@example.com", "role": "viewer"}, format="json")

    assert response.status_code == 201 and response.json()["id"] == elsewhere.user_id
    assert WorkspaceMembership.objects.filter(user=elsewhere.user).count() == 2
    assert get_user_model().objects.filter(email__iexact="bo@example.com").count() == 1
    [message] = mail.outbox
    assert "already have a revorg account" in message.body and "/login/" in message.body
    again = admin.post(INVITE, {"email": "bo@example.com", "role": "admin"}, format="json")
    assert again.status_code == 409 and "already a user of this workspace" in again.json()["detail"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-address", "role": "rep"}, "email"),
        ({"email": "x@example.com", "role": "boss"}, "role"),
        ({"email": "x@example.com", "role": "rep", "member": 999999}, "member"),
        ({"email": "x@example.com", "role": "director"}, "territory"),
        ({"email": "x@example.com", "role": "rep", "territory": "nope"}, "territory"),
        ({"role": "rep"}, "email"),
    ],
)
def test_a_bad_invitation_is_a_400_naming_the_field_and_writes_nothing(
    admin, workspace, payload, field
):
    users_before = get_user_model().objects.count()

    response = admin.post(INVITE, payload, format="json")

    assert response.status_code == 400 and field in response.json()
    assert get_user_model().objects.count() == users_before and not mail.outbox


def test_a_member_of_another_workspace_or_one_already_linked_cannot_be_linked(
    admin, workspace, other_workspace
):
    foreign = MemberFactory(workspace=other_workspace)
    linked = MembershipFactory(
        workspace=workspace, role="rep", member=MemberFactory(workspace=workspace)
    )
    target = MembershipFactory(workspace=workspace, role="rep")

    assert (
        admin.patch(f"{USERS}{target.user_id}/", {"member": foreign.pk}, format="json").status_code
        == 400
    )
    taken = admin.patch(f"{USERS}{target.user_id}/", {"member": linked.member_id}, format="json")
    assert taken.status_code == 400 and "already linked" in taken.json()["member"][0]


def test_an_admin_makes_a_director_of_a_territory(admin, workspace):
    west = TerritoryFactory(workspace=workspace)
    person = MembershipFactory(workspace=workspace, role="viewer")
    url = f"{USERS}{person.user_id}/"

    assert admin.patch(url, {"role": "director"}, format="json").json() == {
        "territory": ["a director needs a territory: their scope"]
    }
    made = admin.patch(url, {"role": "director", "territory": west.pk}, format="json")
    assert made.status_code == 200 and made.json()["territory"] == west.pk
    demoted = admin.patch(url, {"role": "manager"}, format="json")
    assert demoted.json()["territory"] is None  # only a director has a territory
    entry = AuditEntry.objects.filter(object_type="revorg.workspacemembership").first()
    assert (entry.before["role"], entry.after["role"]) == ("director", "manager")


@pytest.mark.parametrize("role", ["viewer", "rep", "manager", "director"])
def test_only_admins_list_invite_and_change_users(user_client, workspace, role):
    client = user_client(workspace, role=role)
    someone = MembershipFactory(workspace=workspace, role="viewer")

    assert client.get(USERS).status_code == 403
    assert (
        client.post(INVITE, {"email": "x@example.com", "role": "admin"}, format="json").status_code
        == 403
    )
    assert (
        client.patch(f"{USERS}{someone.user_id}/", {"role": "admin"}, format="json").status_code
        == 403
    )
    someone.refresh_from_db()
    assert someone.role == "viewer"


def test_a_deactivated_person_cannot_log_in_and_their_session_ends(admin, workspace):
    person = MembershipFactory(workspace=workspace, role="rep", user__username="cy")
    session = Client()
    assert _login(session, "cy", "pw-for-tests-1")["Location"] == "/"

    response = admin.patch(f"{USERS}{person.user_id}/", {"is_active": False}, format="json")

    assert response.status_code == 200 and response.json()["is_active"] is False
    assert session.get("/")["Location"].startswith("/login/")
    refused = _login(Client(), "cy", "pw-for-tests-1")
    assert refused.status_code == 200 and b"didn't match" in refused.content
    admin.patch(f"{USERS}{person.user_id}/", {"is_active": True}, format="json")
    assert _login(Client(), "cy", "pw-for-tests-1")["Location"] == "/"


def test_deactivation_in_one_workspace_keeps_the_others(admin, workspace, other_workspace):
    person = MembershipFactory(workspace=workspace, role="rep", user__username="di")
    MembershipFactory(workspace=other_workspace, user=person.user, role="viewer")

    admin.patch(f"{USERS}{person.user_id}/", {"is_active": False}, format="json")

    client = Client()
    assert _login(client, "di", "pw-for-tests-1")["Location"] == "/"
    assert client.get("/api/v1/workspace/").json()["id"] == other_workspace.pk


def test_the_last_admin_can_be_neither_demoted_nor_deactivated(workspace, user_client):
    only = MembershipFactory(workspace=workspace, role="admin")
    client = Client()
    client.force_login(only.user)
    url = f"{USERS}{only.user_id}/"

    for change in ({"role": "manager"}, {"is_active": False}):
        response = client.patch(url, change, content_type="application/json")
        assert response.status_code == 409
        assert "last admin of this workspace" in response.json()["detail"]
    only.refresh_from_db()
    assert (only.role, only.is_active) == ("admin", True)
    second = MembershipFactory(workspace=workspace, role="admin")
    assert (
        client.patch(url, {"role": "manager"}, content_type="application/json").status_code == 200
    )
    assert second.user.workspace_memberships.get().role == "admin"


def test_an_inactive_admin_does_not_count_as_the_remaining_admin(workspace):
    only = MembershipFactory(workspace=workspace, role="admin")
    MembershipFactory(workspace=workspace, role="admin", is_active=False)
    client = Client()
    client.force_login(only.user)

    response = client.patch(
        f"{USERS}{only.user_id}/", {"role": "viewer"}, content_type="application/json"
    )

    assert response.status_code == 409


def test_an_unknown_field_value_is_a_400(admin, workspace):
    person = MembershipFactory(workspace=workspace, role="viewer")
    response = admin.patch(f"{USERS}{person.user_id}/", {"role": ["admin"]}, format="json")
    assert response.status_code == 400 and "role" in response.json()


def test_users_list_shows_the_workspaces_people_only(admin, workspace, other_workspace):
    MembershipFactory(workspace=other_workspace, user__email="far@example.com")
    MembershipFactory(workspace=workspace, user__email="near@example.com", role="rep")

    emails = {row["email"] for row in admin.get(USERS).json()["results"]}

    assert "near@example.com" in emails and "far@example.com" not in emails


def test_a_user_with_a_password_already_is_not_sent_a_set_password_link(
    admin, workspace, other_workspace, django_capture_on_commit_callbacks
):
    UserFactory(email="eve@example.com", username="eve")
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(INVITE, {"email": "eve@example.com", "role": "viewer"}, format="json")
    [message] = mail.outbox
    assert "/invitation/" not in message.body
