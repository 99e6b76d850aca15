"""The allocation history as CSV: the history's filters, streamed in constant memory."""

import csv
import io
import tracemalloc

import pytest
from django.http import StreamingHttpResponse

from allocation.models import Allocation
from tests.allocation.factories import AllocationFactory
from tests.factories import MemberFactory, TerritoryFactory, TerritorySlotFactory

EXPORT_URL = "/api/v1/allocations/export/"


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.django_db
class TestAllocationExport:
    def test_an_allocation_made_through_the_api_is_exported_with_names(self, api, workspace):
        ada = MemberFactory(workspace=workspace, name="Ada", email="ada@acme.com")
        west = TerritoryFactory(
            workspace=workspace, name="West", rule={"field": "country", "op": "eq", "value": "US"}
        )
        TerritorySlotFactory(territory=west, member=ada)
        made = api.post(
            "/api/v1/allocations/",
            {
                "record": {
                    "type": "lead",
                    "id": "00Q1",
                    "fields": {"country": "US", "company": "=cmd|' /C calc'!A0"},
                },
                "play_run": {"id": "run_1"},
            },
            format="json",
        )
        assert made.status_code == 201, made.content

        response = api.get(EXPORT_URL)

        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        [row] = read_csv(response)
        assert row["id"] == str(made.json()["id"])
        assert (row["status"], row["current"], row["record_id"]) == ("assigned", "true", "00Q1")
        assert (row["owner_name"], row["owner_email"], row["territory_name"]) == (
            "Ada",
            "ada@acme.com",
            "West",
        )
        assert (row["play_run_id"], row["writeback_status"]) == ("run_1", "none")
        assert '"company":"=cmd' in row["record_fields"]

    def test_the_history_filters_apply(self, api, workspace, other_workspace):
        ada = MemberFactory(workspace=workspace)
        AllocationFactory(workspace=workspace, owner=ada, record_type="lead", record_id="L1")
        AllocationFactory(workspace=workspace, record_type="contact", record_id="C1")
        AllocationFactory(workspace=workspace, owner=None, status="unassigned", record_id="U1")
        AllocationFactory(workspace=other_workspace, owner=None, record_id="THEIRS")

        def ids(**filters):
            return [r["record_id"] for r in read_csv(api.get(EXPORT_URL, filters))]

        assert sorted(ids()) == ["C1", "L1", "U1"]
        assert ids(member=ada.pk) == ["L1"]
        assert ids(record_type="contact") == ["C1"]
        assert ids(status="unassigned") == ["U1"]
        assert api.get(EXPORT_URL, {"created_after": "not a date"}).status_code == 400

    def test_a_formula_in_a_cell_is_prefixed(self, api, workspace):
        AllocationFactory(workspace=workspace, record_id="+SUM(A1)", owner=None)

        assert read_csv(api.get(EXPORT_URL))[0]["record_id"] == "'+SUM(A1)"

    def test_a_large_history_streams_in_constant_memory(self, api, workspace):
        """Memory while the body streams does not grow with the history: three times the rows
        (several MB of CSV) peak at about what a third of them does, one chunk of rows."""

        def add(count, start):
            Allocation.objects.bulk_create(
                Allocation(
                    workspace=workspace,
                    status="unassigned",
                    record_type="lead",
                    record_id=f"00Q{n:08d}",
                    record_fields={"country": "US", "company": f"Company {n}", "employees": n},
                    actor_label="api key tests",
                )
                for n in range(start, start + count)
            )

        def export():
            response = api.get(EXPORT_URL)
            assert isinstance(response, StreamingHttpResponse)
            tracemalloc.start()
            size = lines = 0
            for chunk in response.streaming_content:
                size += len(chunk)
                lines += chunk.count(b"\n")
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            return lines, size, peak

        add(10_000, 0)
        small_lines, small_size, small_peak = export()
        add(20_000, 10_000)
        large_lines, large_size, large_peak = export()

        assert (small_lines, large_lines) == (10_001, 30_001)
        assert large_size > 2.5 * small_size
        assert large_peak < 1.3 * small_peak, (small_peak, large_peak)
