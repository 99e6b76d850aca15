"""A whole-book simulation over HTTP on real Celery workers (chunks of 2 accounts, so the
six-account book spreads over three chunks on two workers): the moves, the per-territory and
per-rep figures and the balance scores are the hand-computed ones, and nothing is written
to the book or its history."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from allocation.models import Allocation
from tests.factories import api_key_for
from tests.planning.helpers import book_snapshot, small_book, wait_for_job

pytestmark = pytest.mark.skipif(
    not __import__("shutil").which("redis-server"), reason="needs redis-server"
)


def test_simulation_of_a_draft_on_workers_reports_the_hand_computed_moves(workers, workspace):
    book = small_book(workspace)
    before = book_snapshot(workspace)
    history = Allocation.objects.count()
    workers()
    workers()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(workspace)}")

    response = client.post(f"/api/v1/territory-plans/{book.draft.pk}/simulate/", {}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["kind"] == "simulate"
    job = wait_for_job(response.json()["id"])
    assert job.status == "succeeded", job.errors
    result = client.get(f"/api/v1/jobs/{job.pk}/").json()["result"]

    # Account 3 (MA) leaves East for West and Bob for Cid; account 6 (TX) is no longer
    # orphaned: South, Dee. Nothing else moves.
    assert (result["moves"], result["territory_moves"], result["owner_moves"]) == (2, 2, 2)
    territories = {t["name"]: t for t in result["territories"]}
    assert territories["East"]["before"] == {
        "accounts": 3,
        "open_deals": 1,
        "open_pipeline": "1000.00",
    }
    assert territories["East"]["after"] == {
        "accounts": 2,
        "open_deals": 1,
        "open_pipeline": "1000.00",
    }
    assert territories["West"]["before"] == {
        "accounts": 2,
        "open_deals": 1,
        "open_pipeline": "500.00",
    }
    assert territories["West"]["after"] == {
        "accounts": 3,
        "open_deals": 1,
        "open_pipeline": "500.00",
    }
    assert territories["West"]["id"] == book.draft_west.pk
    assert territories["South"]["before"]["accounts"] == 0
    assert territories["South"]["after"]["accounts"] == 1
    members = {
        m["name"]: (m["before"]["accounts"], m["after"]["accounts"]) for m in result["members"]
    }
    assert members == {"Ann": (2, 2), "Bob": (1, 0), "Cid": (2, 3), "Dee": (0, 1)}
    # Before: primaries Ann, Bob, Cid hold 2, 1, 2 accounts: mean 5/3, stdev √2/3,
    # CV 0.2828 → 71.72; pipeline 1000, 0, 500: CV 0.8165 → 18.35.
    # After: Ann, Bob, Cid, Dee hold 2, 0, 3, 1: mean 1.5, stdev 1.118, CV 0.7454 → 25.46;
    # pipeline 1000, 0, 500, 0: CV 1.1055 → floored at 0.
    assert result["balance"] == {
        "accounts": {"before": 71.72, "after": 25.46},
        "pipeline": {"before": 18.35, "after": 0.0},
    }
    assert result["coverage"]["orphaned"] == 0 and result["coverage"]["accounts"] == 6

    moves = client.get(f"/api/v1/jobs/{job.pk}/moves.csv")
    assert moves.status_code == 200 and moves["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(moves.streaming_content).decode())))
    assert [(r["crm_id"], r["territory_before"], r["territory_after"], r["owner_before"],
             r["owner_after"]) for r in rows] == [
        ("A3", "East", "West", "Bob", "Cid"),
        ("A6", "", "South", "", "Dee"),
    ]  # fmt: skip

    assert book_snapshot(workspace) == before
    assert Allocation.objects.count() == history
