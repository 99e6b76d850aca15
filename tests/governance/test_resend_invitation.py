"""Resending an invitation from the users page (admins): a person who has not set a
password yet gets a new set-password link by e-mail, and the link sent before stops working
(their unusable password is drawn again, which the old token was computed from). Someone
with a password, or deactivated, is not sent one."""

import re

import pytest
from django.core import mail
from django.test import Client

from revorg.models import AuditEntry
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
INVITE = "/users/"
PASSWORD = "a-long-Passphrase-42"


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def _sets_password(link: str) -> bool:
    """Whether the set-password page behind `link` takes a new password."""
    person = Client()
    form = person.get(link, follow=True)
    if b"This link no longer works" in form.content:
        return False
    done = person.post(
        form.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD}
    )
    return done.status_code == 302 and done["Location"] == "/login/"


@pytest.fixture
def invited(user_client, workspace, django_capture_on_commit_callbacks):
    """An admin's client and the first invitation e-mail of ada@example.com."""
    admin = user_client(workspace, role="admin")
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(INVITE, {"email": "ada@example.com", "role": "rep"})
    [first] = mail.outbox
    user = admin.get("/users/").context["users"][-1].user
    assert user.email == "ada@example.com"
    return admin, first, user


def test_a_resent_invitation_carries_a_new_link_and_the_old_one_stops_working(
    invited, workspace, django_capture_on_commit_callbacks
):
    admin, first, user = invited

    with django_capture_on_commit_callbacks(execute=True):
        answer = admin.post(f"/users/{user.pk}/resend-invitation/", follow=True)

    assert answer.status_code == 200
    assert "A new invitation went to ada@example.com" in answer.content.decode()
    second = mail.outbox[-1]
    assert len(mail.outbox) == 2 and second.to == ["ada@example.com"]
    assert workspace.name in second.subject and _link(second) != _link(first)
    assert not _sets_password(_link(first))
    assert _sets_password(_link(second))
    logged_in = Client().post("/login/", {"username": "ada@example.com", "password": PASSWORD})
    assert logged_in.status_code == 302
    assert AuditEntry.objects.filter(workspace=workspace, action="reinvite").count() == 1


def test_the_users_page_offers_resend_only_to_people_without_a_password(invited, workspace):
    admin, _, user = invited
    MembershipFactory(workspace=workspace, role="viewer")  # has a password

    page = admin.get("/users/").content.decode()

    assert page.count("Resend invitation") == 1
    assert f'data-testid="resend-{user.pk}"' in page


def test_someone_with_a_password_is_not_sent_a_new_link(user_client, workspace):
    admin = user_client(workspace, role="admin")
    person = MembershipFactory(workspace=workspace, role="viewer").user

    answer = admin.post(f"/users/{person.pk}/resend-invitation/", follow=True)

    assert "Not sent" in answer.content.decode() and "already set a password" in (
        answer.content.decode()
    )
    assert mail.outbox == []
    person.refresh_from_db()
    assert person.check_password("pw-for-tests-1")


def test_a_deactivated_person_is_not_sent_a_new_link(
    invited, workspace, django_capture_on_commit_callbacks
):
    admin, _, user = invited
    admin.post(f"/users/{user.pk}/", {"is_active": "0"})

    with django_capture_on_commit_callbacks(execute=True):
        answer = admin.post(f"/users/{user.pk}/resend-invitation/", follow=True)

    assert "reactivate them first" in answer.content.decode()
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("role", ["viewer", "rep", "manager", "director"])
def test_only_admins_resend(invited, user_client, workspace, role):
    _, _, user = invited
    client = user_client(workspace, role=role)

    assert client.post(f"/users/{user.pk}/resend-invitation/").status_code == 403
    assert len(mail.outbox) == 1


def test_another_workspaces_person_is_404(user_client, workspace, other_workspace):
    theirs = MembershipFactory(workspace=other_workspace, role="viewer").user
    theirs.set_unusable_password()
    theirs.email = "x@example.com"
    theirs.save()
    admin = user_client(workspace, role="admin")

    assert admin.post(f"/users/{theirs.pk}/resend-invitation/").status_code == 404
    assert mail.outbox == []
