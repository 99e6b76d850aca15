"""The members resource: CRUD, filters, search, pagination, validation, absences."""

import pytest

from members.models import Member
from tests.factories import AbsenceFactory, MemberFactory

MEMBERS = "/api/v1/members/"


def test_create_and_read_a_member(api):
    payload = {
        "name": "Ada Park",
        "email": "ada@acme.com",
        "title": "AE",
        "timezone": "America/Los_Angeles",
        "metadata": {"languages": ["en", "ko"], "seniority": "senior"},
        "crm_provider": "salesforce",
        "crm_user_id": "0055e00000AbCdE",
    }
    response = api.post(MEMBERS, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["metadata"] == {"languages": ["en", "ko"], "seniority": "senior"}
    assert body["is_active"] is True
    assert api.get(f"{MEMBERS}{body['id']}/").json()["email"] == "ada@acme.com"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "email": "not-an-email"}, "email"),
        ({"name": "X", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "X", "metadata": ["en"]}, "metadata"),
        ({"name": "X", "metadata": "languages"}, "metadata"),
        ({"name": "X", "metadata": {"nested": {"a": 1}}}, "metadata"),
        ({"name": "X", "manager": 999999}, "manager"),
        ({"name": ""}, "name"),
        ({"email": "a@b.co"}, "name"),
        ({"name": "X", "crm_user_id": "005"}, "crm_provider"),
        ({"name": "X", "is_active": "perhaps"}, "is_active"),
    ],
)
def test_bad_payload_is_400_naming_the_field(api, payload, field):
    response = api.post(MEMBERS, payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert Member.objects.count() == 0


def test_manager_from_another_workspace_is_400(api, other_workspace):
    foreign = MemberFactory(workspace=other_workspace)
    response = api.post(MEMBERS, {"name": "X", "manager": foreign.pk}, format="json")
    assert response.status_code == 400
    assert "manager" in response.json()


def test_manager_cycle_is_400(api, workspace):
    boss = MemberFactory(workspace=workspace)
    rep = MemberFactory(workspace=workspace, manager=boss)
    response = api.patch(f"{MEMBERS}{boss.pk}/", {"manager": rep.pk}, format="json")
    assert response.status_code == 400
    assert "manager" in response.json()


def test_duplicate_crm_user_is_400(api, workspace):
    MemberFactory(workspace=workspace, crm_provider="hubspot", crm_user_id="42")
    response = api.post(
        MEMBERS, {"name": "X", "crm_provider": "hubspot", "crm_user_id": "42"}, format="json"
    )
    assert response.status_code == 400
    assert "crm_user_id" in response.json()


def test_malformed_json_is_400(api):
    response = api.post(MEMBERS, "{not json", content_type="application/json")
    assert response.status_code == 400


def test_filters_and_search(api, workspace):
    MemberFactory(workspace=workspace, name="Ada Park", email="ada@acme.com")
    MemberFactory(workspace=workspace, name="Ben Ortiz", is_active=False)
    MemberFactory(workspace=workspace, name="Cleo", crm_provider="hubspot", crm_user_id="7")

    def names(query):
        return [m["name"] for m in api.get(MEMBERS + query).json()["results"]]

    assert names("?is_active=false") == ["Ben Ortiz"]
    assert names("?email=ADA@acme.com") == ["Ada Park"]
    assert names("?crm_provider=hubspot") == ["Cleo"]
    assert names("?search=ort") == ["Ben Ortiz"]


def test_pagination(api, workspace):
    MemberFactory.create_batch(7, workspace=workspace)
    page = api.get(MEMBERS + "?page_size=3").json()
    assert page["count"] == 7
    assert len(page["results"]) == 3
    assert page["next"] and page["previous"] is None


def test_other_workspace_sees_an_empty_list(workspace, other_api):
    MemberFactory(workspace=workspace)
    assert other_api.get(MEMBERS).json()["count"] == 0


def test_foreign_key_cannot_patch_or_delete(workspace, other_api):
    member = MemberFactory(workspace=workspace, name="Ada")
    assert (
        other_api.patch(f"{MEMBERS}{member.pk}/", {"name": "Mallory"}, format="json").status_code
        == 404
    )
    assert other_api.delete(f"{MEMBERS}{member.pk}/").status_code == 404
    member.refresh_from_db()
    assert member.name == "Ada"


def test_absences_are_nested_under_a_member(api, workspace):
    member = MemberFactory(workspace=workspace)
    url = f"{MEMBERS}{member.pk}/absences/"
    response = api.post(
        url,
        {
            "starts_at": "2026-12-20T00:00:00Z",
            "ends_at": "2027-01-02T00:00:00Z",
            "reason": "holiday",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["member"] == member.pk
    assert api.get(url).json()["count"] == 1


def test_absence_must_end_after_it_starts(api, workspace):
    member = MemberFactory(workspace=workspace)
    response = api.post(
        f"{MEMBERS}{member.pk}/absences/",
        {"starts_at": "2026-12-20T00:00:00Z", "ends_at": "2026-12-19T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 400
    assert "ends_at" in response.json()


def test_absences_of_foreign_member_are_404(workspace, other_api):
    absence = AbsenceFactory(member=MemberFactory(workspace=workspace))
    assert other_api.get(f"{MEMBERS}{absence.member_id}/absences/").status_code == 404
    response = other_api.post(
        f"{MEMBERS}{absence.member_id}/absences/",
        {"starts_at": "2026-12-20T00:00:00Z", "ends_at": "2027-01-02T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 404
