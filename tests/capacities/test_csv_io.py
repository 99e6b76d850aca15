"""Capacities with their usage now, as CSV."""

import csv
import io

import pytest

from tests.capacities.factories import CapacityFactory, allocate_to
from tests.factories import MemberFactory

EXPORT_URL = "/api/v1/capacities/export/"


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.django_db
class TestCapacityExport:
    def test_each_capacity_with_its_usage_now(self, api, workspace, other_workspace):
        ada = MemberFactory(workspace=workspace, name="Ada", email="ada@acme.com")
        bob = MemberFactory(workspace=workspace, name="Bob")
        CapacityFactory(member=ada, limit=5, period="day", record_types=["lead", "contact"])
        CapacityFactory(member=bob, limit=10, period="rolling", window_hours=48)
        CapacityFactory(member=MemberFactory(workspace=other_workspace))
        allocate_to(ada, 3)

        response = api.get(EXPORT_URL)

        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        ada_row, bob_row = read_csv(response)
        assert (ada_row["member_name"], ada_row["member_email"]) == ("Ada", "ada@acme.com")
        assert (ada_row["limit"], ada_row["used"], ada_row["remaining"]) == ("5", "3", "2")
        assert ada_row["record_types"] == "lead;contact"
        assert ada_row["resets_at"]
        assert (bob_row["period"], bob_row["window_hours"], bob_row["used"]) == (
            "rolling",
            "48",
            "0",
        )

    def test_the_list_filters_apply(self, api, workspace):
        ada = MemberFactory(workspace=workspace, name="Ada")
        CapacityFactory(member=ada, period="day")
        CapacityFactory(member=ada, period="week")
        CapacityFactory(member=MemberFactory(workspace=workspace), period="week")

        rows = read_csv(api.get(EXPORT_URL, {"member": ada.pk, "period": "week"}))

        assert [(r["member_name"], r["period"]) for r in rows] == [("Ada", "week")]

    def test_a_key_without_read_scope_is_refused(self, make_client, workspace):
        response = make_client(workspace, scopes="allocate").get(EXPORT_URL)

        assert response.status_code == 403
