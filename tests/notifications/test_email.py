"""E-mail through Django's mail backend, as each user chose per event type: at once, in the
daily digest, or not at all (the event type's default when they did not choose); the
preferences page edits the choice of the user who is logged in, and nobody else's."""

import pytest
from django.core import mail

from notifications import services
from notifications.events import publish
from notifications.models import EmailNotification, NotificationPreference
from revorg.models import WorkspaceMembership
from tests.book.helpers import us_territory
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def rep_user(workspace):
    """A rep's login linked to the member that owns every US lead (one rep in the territory)."""
    _, (member,) = us_territory(workspace, reps=1)
    user = UserFactory(email="ada@example.com")
    WorkspaceMembership.objects.create(workspace=workspace, user=user, role="rep", member=member)
    return user


def _allocate(api, capture, n=1):
    with capture(execute=True):
        for i in range(n):
            response = api.post(
                "/api/v1/allocations/",
                {"record": {"type": "lead", "id": f"L{i}", "fields": {"country": "US"}}},
                format="json",
            )
            assert response.status_code == 201, response.content
    return response.json()


def test_the_owner_hears_at_once_by_default(api, rep_user, django_capture_on_commit_callbacks):
    allocation = _allocate(api, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert message.to == ["ada@example.com"]
    assert message.subject.endswith(f"New lead for {allocation['owner']['name']}: L0")
    assert f"Allocation #{allocation['id']}" in message.body
    assert EmailNotification.objects.get().status == "sent"


def test_digest_waits_for_the_daily_digest_then_comes_as_one_email(
    api, workspace, rep_user, django_capture_on_commit_callbacks
):
    services.preferences_set(
        workspace=workspace, user=rep_user, modes={"allocation.created": "digest"}
    )
    _allocate(api, django_capture_on_commit_callbacks, n=3)
    assert mail.outbox == []
    assert services.digest_send() == 1
    (digest,) = mail.outbox
    assert digest.to == ["ada@example.com"] and "Daily digest: 3 events" in digest.subject
    assert digest.body.count("New lead for") == 3
    assert services.digest_send() == 0  # each event is in one digest only


def test_off_sends_nothing_and_stores_nothing(
    api, workspace, rep_user, django_capture_on_commit_callbacks
):
    services.preferences_set(
        workspace=workspace, user=rep_user, modes={"allocation.created": "off"}
    )
    _allocate(api, django_capture_on_commit_callbacks)
    assert services.digest_send() == 0
    assert mail.outbox == [] and not EmailNotification.objects.exists()


def test_workspace_events_go_to_admins_job_finished_in_the_digest_by_default(workspace):
    admin = MembershipFactory(workspace=workspace, role="admin", user__email="boss@example.com")
    MembershipFactory(workspace=workspace, role="viewer", user__email="viewer@example.com")
    data = {"id": 4, "kind": "import", "status": "succeeded", "result": {"imported": 9}}
    publish(workspace=workspace, event_type="job.finished", data=data)
    assert services.emails_send_immediate() == 0
    assert services.digest_send() == 1
    (digest,) = mail.outbox
    assert digest.to == [admin.user.email] and "Import job #4 succeeded" in digest.body


def test_orphaned_accounts_alert_admins_at_once(workspace):
    MembershipFactory(workspace=workspace, role="admin", user__email="boss@example.com")
    publish(
        workspace=workspace,
        event_type="account.orphaned",
        data={"job": 5, "source": "import", "count": 2, "truncated": False,
              "accounts": [{"crm_id": "A1", "name": "Acme", "domain": "acme.com"},
                           {"crm_id": "A2", "name": "Globex", "domain": ""}]},
    )  # fmt: skip
    assert services.emails_send_immediate() == 1
    (message,) = mail.outbox
    assert "2 new accounts no territory covers" in message.subject
    assert "- Acme (A1, acme.com)" in message.body and "- Globex (A2)" in message.body


def test_a_refused_smtp_batch_is_kept_for_the_next_run(workspace, settings):
    admin = MembershipFactory(workspace=workspace, role="admin", user__email="boss@example.com")
    services.preferences_set(
        workspace=workspace, user=admin.user, modes={"writeback.failed": "immediate"}
    )
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens
    publish(workspace=workspace, event_type="writeback.failed", data={"allocation": 1})
    assert services.emails_send_immediate() == 0
    row = EmailNotification.objects.get()
    assert (row.status, row.attempts, row.claimed_until) == ("pending", 1, None)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.emails_send_immediate() == 1
    assert mail.outbox[0].to == ["boss@example.com"]


def test_the_preferences_page_saves_the_logged_in_users_choices(client, workspace):
    me = MembershipFactory(workspace=workspace, role="rep", user__email="me@example.com").user
    other = MembershipFactory(workspace=workspace, role="admin").user
    client.force_login(me)
    page = client.get("/preferences/notifications/")
    assert page.status_code == 200 and b'name="mode-allocation.created"' in page.content
    saved = client.post(
        "/preferences/notifications/",
        {"mode-allocation.created": "digest", "mode-job.finished": "off"},
    )
    assert saved.status_code == 302
    assert dict(
        NotificationPreference.objects.filter(user=me).values_list("event_type", "mode")
    ) == {"allocation.created": "digest", "job.finished": "off"}
    assert not NotificationPreference.objects.filter(user=other).exists()


def test_a_bad_mode_is_a_400_naming_it_and_saves_nothing(client, workspace):
    me = MembershipFactory(workspace=workspace, role="viewer").user
    client.force_login(me)
    response = client.post(
        "/preferences/notifications/",
        {"mode-allocation.created": "digest", "mode-job.finished": "hourly"},
    )
    assert response.status_code == 400 and b"job.finished: choose" in response.content
    assert not NotificationPreference.objects.exists()


def test_the_preferences_page_needs_a_login(client):
    assert client.get("/preferences/notifications/").status_code == 302
