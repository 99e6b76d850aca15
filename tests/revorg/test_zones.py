"""Times are shown in a stated zone: the viewer's (kept server-side, reported once by the
browser or picked), UTC until then; `|when` writes every time with its zone's name."""

from datetime import UTC, datetime

from revorg.models import UserPreference
from tests.allocation.factories import AllocationFactory

URL = "/preferences/timezone/"


def test_until_a_zone_is_known_times_are_utc_and_the_page_asks_the_browser(user_client, workspace):
    entry = AllocationFactory(workspace=workspace)
    entry.__class__.objects.filter(pk=entry.pk).update(
        created_at=datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
    )
    body = user_client(workspace, role="viewer").get("/allocations/").content.decode()
    assert "2030-03-01 12:00 UTC" in body
    assert "data-timezone-unset" in body


def test_the_browser_reports_its_zone_once_and_pages_use_it(user_client, workspace):
    entry = AllocationFactory(workspace=workspace)
    entry.__class__.objects.filter(pk=entry.pk).update(
        created_at=datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
    )
    client = user_client(workspace, role="viewer")
    response = client.post(URL, {"timezone": "Europe/Paris"}, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 204
    assert UserPreference.objects.get(user=client.user).timezone == "Europe/Paris"
    body = client.get("/allocations/").content.decode()
    assert "2030-03-01 13:00 Europe/Paris" in body and "data-timezone-unset" not in body


def test_the_preference_is_per_person_and_survives_a_new_session(user_client, workspace):
    from django.test import Client

    client = user_client(workspace, role="viewer")
    client.post(URL, {"timezone": "Asia/Tokyo"})
    fresh = Client()
    fresh.force_login(client.user)
    assert "Asia/Tokyo" in fresh.get("/").content.decode()
    other = user_client(workspace, role="viewer")
    assert "data-timezone-unset" in other.get("/").content.decode()


def test_an_unknown_zone_is_400_naming_the_field(user_client, workspace):
    client = user_client(workspace, role="viewer")
    response = client.post(URL, {"timezone": "Moon/Base"})
    assert response.status_code == 400
    assert 'data-error="timezone"' in response.content.decode()
    assert not UserPreference.objects.filter(user=client.user).exists()


def test_the_picker_lists_every_zone(user_client, workspace):
    import zoneinfo

    body = user_client(workspace, role="viewer").get(URL).content.decode()
    for zone in ("Pacific/Chatham", "America/Indiana/Knox", "UTC"):
        assert f'<option value="{zone}">' in body
    assert body.count("<option value=") == len(zoneinfo.available_timezones())
