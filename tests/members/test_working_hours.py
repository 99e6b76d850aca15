"""A member's weekly working hours on the member page (DESIGN §9, SLA clocks count only
them): shown to every role, edited by a manager or higher in scope, checked by the API's
rules (HH:MM, in order, no overlap), audited; every day empty is round the clock."""

import pytest

from members.models import Member
from revorg.models import AuditEntry
from tests.factories import MemberFactory, MembershipFactory

PASSWORD = "pw-for-tests-1"
WEEK = {"mon": "09:00-12:00, 13:00-17:30", "tue": "08:00-16:00", "fri": "10:00-24:00"}


def url(member) -> str:
    return f"/members/{member.pk}/working-hours/"


@pytest.mark.django_db
def test_a_manager_sets_a_weekly_schedule_in_the_members_zone(user_client, workspace):
    member = MemberFactory(workspace=workspace, name="Ravi", timezone="Europe/Berlin")
    client = user_client(workspace, role="manager", member=member)

    answer = client.post(url(member), WEEK)

    assert answer.status_code == 302
    member.refresh_from_db()
    assert member.working_hours == {
        "mon": [["09:00", "12:00"], ["13:00", "17:30"]],
        "tue": [["08:00", "16:00"]],
        "fri": [["10:00", "24:00"]],
    }
    audit = AuditEntry.objects.get(workspace=workspace, action="update", object_id=str(member.pk))
    assert audit.after["working_hours"] == member.working_hours
    page = client.get(f"/members/{member.pk}/").content.decode()
    assert 'value="09:00-12:00, 13:00-17:30"' in page and "Europe/Berlin" in page


@pytest.mark.django_db
def test_every_day_empty_is_round_the_clock(user_client, workspace):
    member = MemberFactory(workspace=workspace, working_hours={"mon": [["09:00", "17:00"]]})
    client = user_client(workspace, role="admin")

    assert client.post(url(member), {day: "" for day in WEEK}).status_code == 302

    member.refresh_from_db()
    assert member.working_hours == {}
    assert "No schedule: round the clock." in client.get(f"/members/{member.pk}/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("day", "text", "says"),
    [
        ("mon", "9-5", "times are HH:MM"),
        ("tue", "17:00-09:00", "ends before it starts"),
        ("wed", "09:00-13:00, 12:00-17:00", "must not overlap"),
        ("thu", "09:00", "write intervals as HH:MM-HH:MM"),
        ("fri", "09:00-25:00", "times are HH:MM"),
    ],
)
def test_a_bad_day_is_400_naming_the_day_and_nothing_is_saved(
    user_client, workspace, day, text, says
):
    member = MemberFactory(workspace=workspace, working_hours={"mon": [["09:00", "17:00"]]})
    client = user_client(workspace, role="manager", member=member)

    answer = client.post(url(member), {**WEEK, day: text})

    assert answer.status_code == 400
    body = answer.content.decode()
    row = body[body.index(f'id="hours-{day}"') :].split("</tr>")[0]
    assert says in row and f'value="{text}"' in row  # the error sits by the day's field
    member.refresh_from_db()
    assert member.working_hours == {"mon": [["09:00", "17:00"]]}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "rep"])
def test_below_manager_reads_the_schedule_but_cannot_change_it(user_client, workspace, role):
    member = MemberFactory(workspace=workspace, working_hours={"mon": [["09:00", "17:00"]]})
    client = user_client(workspace, role=role, member=member)

    page = client.get(f"/members/{member.pk}/").content.decode()
    answer = client.post(url(member), {"mon": "00:00-24:00"})

    assert "09:00-17:00" in page and 'data-testid="working-hours-form"' not in page
    assert answer.status_code == 403
    member.refresh_from_db()
    assert member.working_hours == {"mon": [["09:00", "17:00"]]}


@pytest.mark.django_db
def test_a_manager_cannot_set_the_hours_of_someone_outside_their_team(user_client, workspace):
    lead = MemberFactory(workspace=workspace, name="Lead")
    MemberFactory(workspace=workspace, name="Report", manager=lead)
    stranger = MemberFactory(workspace=workspace, name="Stranger")
    client = user_client(workspace, role="manager", member=lead)

    assert client.post(url(stranger), WEEK).status_code == 404
    stranger.refresh_from_db()
    assert stranger.working_hours == {}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_manager_edits_working_hours_in_the_browser(page, login, shot, workspace):
    lead = MemberFactory(workspace=workspace, name="Lena Lead", timezone="America/New_York")
    rep = MemberFactory(
        workspace=workspace,
        name="Ravi Rep",
        manager=lead,
        timezone="Asia/Kolkata",
        working_hours={"mon": [["09:00", "17:00"]]},
    )
    manager = MembershipFactory(workspace=workspace, role="manager", member=lead).user

    login(manager.username, PASSWORD)
    page.goto(f"/members/{rep.pk}/")
    form = page.locator("[data-testid=working-hours-form]")
    assert "Asia/Kolkata" in page.locator("[data-testid=working-hours-zone]").inner_text()
    assert form.locator("input[name=mon]").input_value() == "09:00-17:00"
    form.locator("input[name=tue]").fill("09:00-13:00, 12:00-18:00")
    form.locator("button", has_text="Save working hours").click()
    page.wait_for_selector("[data-testid=working-hours] .field-error")
    assert "must not overlap" in form.locator("tr", has_text="Tuesday").inner_text()
    shot("member_working_hours_error")

    form = page.locator("[data-testid=working-hours-form]")
    form.locator("input[name=tue]").fill("09:00-13:00, 14:00-18:00")
    form.locator("input[name=sat]").fill("10:00-14:00")
    form.locator("button", has_text="Save working hours").click()
    page.wait_for_selector(".messages >> text=Working hours of Ravi Rep saved.")
    assert Member.objects.get(pk=rep.pk).working_hours == {
        "mon": [["09:00", "17:00"]],
        "tue": [["09:00", "13:00"], ["14:00", "18:00"]],
        "sat": [["10:00", "14:00"]],
    }
    assert page.locator("input[name=sat]").input_value() == "10:00-14:00"
    shot("member_working_hours_saved")
