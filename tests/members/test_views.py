"""The member pages: admins add members (time zone from the IANA list) and deactivate or
reactivate them, managers may not; the member page shows territories and slots, capacities
with usage, absences in a stated zone and recent allocations; the list marks who is absent."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from members.models import Absence, Member
from revorg.models import AuditEntry
from tests.allocation.factories import AllocationFactory
from tests.capacities.factories import CapacityFactory, allocate_to
from tests.factories import AbsenceFactory, MemberFactory, TerritorySlotFactory


def audits(workspace, action):
    return list(
        AuditEntry.objects.filter(workspace=workspace, action=action, object_type="members.member")
    )


def test_an_admin_adds_a_member_with_a_zone_and_it_is_audited(user_client, workspace):
    client = user_client(workspace, role="admin")
    response = client.post(
        "/members/new/",
        {
            "name": "Zoe Zone",
            "email": "zoe@acme.test",
            "timezone": "Asia/Kolkata",
            "languages": "en, hi",
        },
    )
    member = Member.objects.get(workspace=workspace, name="Zoe Zone")
    assert response.status_code == 302 and response["Location"] == f"/members/{member.pk}/"
    assert (member.timezone, member.is_active, member.metadata["languages"]) == (
        "Asia/Kolkata",
        True,
        ["en", "hi"],
    )
    [entry] = audits(workspace, "create")
    assert entry.after["timezone"] == "Asia/Kolkata" and entry.actor_user_id is not None


def test_the_add_form_offers_every_iana_zone(user_client, workspace):
    import zoneinfo

    body = user_client(workspace, role="admin").get("/members/").content.decode()
    assert '<input name="timezone" list="timezones"' in body
    offered = body.count('<option value="', body.index('<datalist id="timezones">'))
    assert offered >= len(zoneinfo.available_timezones())
    assert '<option value="America/Argentina/Buenos_Aires">' in body


def test_an_unknown_zone_is_400_naming_the_field_and_nothing_is_written(user_client, workspace):
    client = user_client(workspace, role="admin")
    response = client.post("/members/new/", {"name": "Nope", "timezone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "unknown time zone" in response.content.decode()
    assert not Member.objects.filter(workspace=workspace).exists()
    assert not AuditEntry.objects.filter(workspace=workspace).exists()


def test_no_zone_means_utc(user_client, workspace):
    user_client(workspace, role="admin").post("/members/new/", {"name": "Una"})
    assert Member.objects.get(workspace=workspace).timezone == "UTC"


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_only_admins_add_deactivate_and_reactivate(user_client, workspace, role):
    client = user_client(workspace, role=role)
    member = MemberFactory(workspace=workspace)
    assert client.post("/members/new/", {"name": "X"}).status_code == 403
    response = client.post(f"/members/{member.pk}/activation/", {"is_active": "0"})
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.is_active and Member.objects.filter(workspace=workspace).count() == 1
    assert "Deactivate</button>" not in client.get(f"/members/{member.pk}/").content.decode()


def test_an_admin_deactivates_then_reactivates_audited(user_client, workspace):
    client = user_client(workspace, role="admin")
    member = MemberFactory(workspace=workspace)
    assert client.post(f"/members/{member.pk}/activation/", {"is_active": "0"}).status_code == 302
    member.refresh_from_db()
    assert not member.is_active
    assert "Reactivate</button>" in client.get(f"/members/{member.pk}/").content.decode()
    client.post(f"/members/{member.pk}/activation/", {"is_active": "1"})
    member.refresh_from_db()
    assert member.is_active
    [off] = audits(workspace, "deactivate")
    [on] = audits(workspace, "reactivate")
    assert (off.before["is_active"], off.after["is_active"]) == (True, False)
    assert (on.before["is_active"], on.after["is_active"]) == (False, True)


def test_a_bad_activation_value_is_400(user_client, workspace):
    member = MemberFactory(workspace=workspace)
    response = user_client(workspace).post(f"/members/{member.pk}/activation/", {"is_active": "x"})
    assert response.status_code == 400 and "is_active" in response.content.decode()


def test_another_workspaces_member_is_404_everywhere(user_client, workspace, other_workspace):
    theirs = MemberFactory(workspace=other_workspace)
    absence = AbsenceFactory(member=theirs)
    client = user_client(workspace, role="admin")
    assert client.get(f"/members/{theirs.pk}/").status_code == 404
    assert client.post(f"/members/{theirs.pk}/activation/", {"is_active": "0"}).status_code == 404
    assert client.post(f"/members/{theirs.pk}/absences/{absence.pk}/delete/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active and Absence.objects.filter(pk=absence.pk).exists()


def test_a_manager_edits_the_profile_but_not_the_active_flag(user_client, workspace):
    lead = MemberFactory(workspace=workspace, name="Lead")
    member = MemberFactory(workspace=workspace, name="Old", manager=lead)
    client = user_client(workspace, role="manager", member=lead)
    response = client.post(
        f"/members/{member.pk}/",
        {"name": "New", "timezone": "Europe/Paris", "is_active": ""},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.name, member.timezone, member.is_active) == ("New", "Europe/Paris", True)
    [entry] = audits(workspace, "update")
    assert (entry.before["name"], entry.after["name"]) == ("Old", "New")


def test_the_member_page_shows_slots_capacities_absences_and_recent_allocations(
    user_client, workspace
):
    member = MemberFactory(workspace=workspace, name="Ada Park")
    TerritorySlotFactory(
        territory__workspace=workspace, territory__name="West", member=member, role="backup"
    )
    CapacityFactory(member=member, limit=10, period="day", name="Daily leads")
    allocate_to(member, 3)
    recent = AllocationFactory(workspace=workspace, owner=member, record_id="00QRECENT")
    AbsenceFactory(member=member, reason="Parental leave")
    body = user_client(workspace, role="viewer").get(f"/members/{member.pk}/").content.decode()
    slots = body[body.index('data-testid="slots"') :]
    assert "West" in slots and "backup" in slots
    capacities = body[body.index('data-testid="member-capacities"') :]
    assert "Daily leads" in capacities and "4 used · 6 left" in capacities
    assert "Parental leave" in body and "absent now" in body
    assert f'href="/allocations/{recent.pk}/"' in body and "00QRECENT" in body


def test_times_say_their_zone_and_switch_to_the_members(user_client, workspace):
    member = MemberFactory(workspace=workspace, timezone="Asia/Tokyo")
    Absence.objects.create(
        workspace=workspace,
        member=member,
        starts_at=datetime(2030, 1, 1, 0, 0, tzinfo=UTC),
        ends_at=datetime(2030, 1, 2, 0, 0, tzinfo=UTC),
    )
    client = user_client(workspace, role="viewer")
    mine = client.get(f"/members/{member.pk}/").content.decode()
    assert "2030-01-01 00:00 UTC → 2030-01-02 00:00 UTC" in mine
    theirs = client.get(f"/members/{member.pk}/?zone=member").content.decode()
    assert "2030-01-01 09:00 Asia/Tokyo → 2030-01-02 09:00 Asia/Tokyo" in theirs


def test_an_absence_entered_in_the_members_zone_is_read_in_it(user_client, workspace):
    lead = MemberFactory(workspace=workspace)
    member = MemberFactory(workspace=workspace, timezone="America/New_York", manager=lead)
    client = user_client(workspace, role="manager", member=lead)
    response = client.post(
        f"/members/{member.pk}/absences/?zone=member",
        {"starts_at": "2030-07-01T09:00", "ends_at": "2030-07-01T17:00", "reason": "dentist"},
    )
    assert response.status_code == 302
    absence = Absence.objects.get(member=member)
    assert absence.starts_at == datetime(2030, 7, 1, 13, 0, tzinfo=UTC)  # EDT is UTC-4
    assert AuditEntry.objects.filter(
        workspace=workspace, object_type="members.absence", action="create"
    ).exists()
    client.post(f"/members/{member.pk}/absences/{absence.pk}/delete/")
    assert not Absence.objects.filter(member=member).exists()
    assert AuditEntry.objects.filter(
        workspace=workspace, object_type="members.absence", action="delete"
    ).exists()


def test_the_list_marks_who_is_absent_now(user_client, workspace):
    away = MemberFactory(workspace=workspace, name="Away Ann")
    MemberFactory(workspace=workspace, name="Here Hal")
    now = timezone.now()
    AbsenceFactory(
        member=away, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )
    body = user_client(workspace, role="viewer").get("/members/").content.decode()
    rows = {row.split("</a>")[0].rsplit(">", 1)[-1]: row for row in body.split("<tr>")[2:]}
    assert 'data-testid="absent-now"' in rows["Away Ann"]
    assert 'data-testid="absent-now"' not in rows["Here Hal"]
