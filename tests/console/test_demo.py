from io import StringIO

from django.core.management import call_command
from rest_framework.test import APIClient


def test_load_demo_prints_a_working_key_and_is_repeatable(db):
    for _ in range(2):
        out = StringIO()
        call_command("load_demo", stdout=out)
        raw_key = out.getvalue().strip().splitlines()[-1]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    page = client.get("/api/v1/members/").json()
    assert page["count"] == 12
    assert all(m["metadata"]["languages"] for m in page["results"])
    assert "admin" in out.getvalue() and "password" in out.getvalue()

    match = client.post(
        "/api/v1/territories/match/",
        {"record": {"fields": {"country": "US", "state": "CA", "industry": "healthcare"}}},
        format="json",
    ).json()
    assert match["winner"]["name"] == "West — Healthcare"
    assert client.get("/api/v1/territories/").json()["count"] == 5
