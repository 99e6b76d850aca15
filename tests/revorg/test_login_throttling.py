"""Password guessing is throttled on the UI login and the Django admin login, per account and
per IP address: after LOGIN_FAILURE_LIMIT failures (5) logins pause for LOGIN_COOLOFF_MINUTES
(15), even with the right password; a successful login resets the count."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import MembershipFactory, UserFactory

PASSWORD = "pw-for-tests-1"
LIMIT = 5

pytestmark = pytest.mark.django_db


def attempt(username, password, *, ip="10.0.0.1", url="/login/"):
    client = Client(REMOTE_ADDR=ip)
    response = client.post(url, {"username": username, "password": password})
    return client, response


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def assert_locked(client, response):
    assert response.status_code == 429
    text = response.content.decode()
    assert "Too many failed logins" in text
    assert f"after {LIMIT} failed attempts" in text
    assert "15 minutes" in text
    assert not logged_in(client)


@pytest.fixture
def user(workspace):
    return MembershipFactory(workspace=workspace, role="admin").user


def test_wrong_passwords_from_many_ips_lock_the_account(user):
    for index in range(LIMIT):
        client, response = attempt(user.username, "wrong", ip=f"10.0.1.{index}")
        assert response.status_code in (200, 429) and not logged_in(client)
    client, response = attempt(user.username, PASSWORD, ip="10.0.2.1")
    assert_locked(client, response)
    assert user.username in response.content.decode()


def test_fewer_failures_than_the_limit_still_log_in(user):
    for _ in range(LIMIT - 1):
        attempt(user.username, "wrong")
    client, response = attempt(user.username, PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_a_success_resets_the_count(user):
    for _ in range(LIMIT - 1):
        attempt(user.username, "wrong")
    client, _ = attempt(user.username, PASSWORD)
    assert logged_in(client)
    for _ in range(LIMIT - 1):
        attempt(user.username, "wrong")
    client, response = attempt(user.username, PASSWORD)
    assert response.status_code == 302 and logged_in(client)


def test_many_usernames_from_one_ip_lock_that_ip(workspace, user):
    for index in range(LIMIT):
        attempt(f"guess{index}", "wrong", ip="192.0.2.7")
    client, response = attempt(user.username, PASSWORD, ip="192.0.2.7")
    assert_locked(client, response)
    client, response = attempt(user.username, PASSWORD, ip="192.0.2.8")  # another address
    assert response.status_code == 302 and logged_in(client)


def test_the_admin_login_is_throttled_too(workspace):
    staff = UserFactory(is_staff=True, is_superuser=True)
    for index in range(LIMIT):
        attempt(staff.username, "wrong", ip=f"10.0.3.{index}", url="/admin/login/")
    client, response = attempt(staff.username, PASSWORD, ip="10.0.4.1", url="/admin/login/")
    assert_locked(client, response)
    assert client.get("/admin/").status_code == 302  # still asked to log in


def test_failures_on_the_admin_count_for_the_ui_login(user):
    for _ in range(LIMIT):
        attempt(user.username, "wrong", url="/admin/login/")
    client, response = attempt(user.username, PASSWORD, ip="10.9.9.9")
    assert_locked(client, response)


def test_the_lock_lifts_after_the_cool_off(user):
    from axes.models import AccessAttempt

    for _ in range(LIMIT):
        attempt(user.username, "wrong")
    client, response = attempt(user.username, PASSWORD)
    assert response.status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    client, response = attempt(user.username, PASSWORD)
    assert response.status_code == 302 and logged_in(client)


def test_the_login_page_names_the_wrong_password_before_the_lock(user):
    _, response = attempt(user.username, "wrong")
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


def test_behind_a_trusted_proxy_the_forwarded_address_counts(settings, user):
    """With TRUSTED_PROXY_COUNT=1 the proxy's last X-Forwarded-For entry is the client: the
    entries a client writes itself (to the left) cannot dodge the per-IP lock."""
    settings.TRUSTED_PROXY_COUNT = 1
    for index in range(LIMIT):
        client = Client(
            REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR=f"1.1.1.{index}, 203.0.113.9"
        )
        client.post("/login/", {"username": f"guess{index}", "password": "wrong"})
    locked = Client(REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.9")
    response = locked.post("/login/", {"username": user.username, "password": PASSWORD})
    assert_locked(locked, response)
    other = Client(REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR="198.51.100.1")
    response = other.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and logged_in(other)
