"""Cross-cutting behaviour: schema, docs, body limit, settings guard, audit trail."""

import subprocess
import sys

import pytest
from django.conf import settings

from revorg.models import AuditEntry


def test_schema_is_served_and_lists_members(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/members/" in schema["paths"]
    assert "/api/v1/members/{member_pk}/absences/" in schema["paths"]


def test_docs_page_uses_local_assets(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"cdn" not in response.content.lower()


def test_body_over_limit_is_413(api):
    body = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = api.post("/api/v1/members/", body, content_type="application/json")
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


def test_production_refuses_the_dev_secret():
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "revorg.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import revorg.wsgi"],
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is the development default" in result.stderr


@pytest.mark.django_db
def test_changes_are_audited_with_before_and_after(api, workspace):
    created = api.post("/api/v1/members/", {"name": "Ada"}, format="json").json()
    api.patch(f"/api/v1/members/{created['id']}/", {"title": "AE"}, format="json")
    api.delete(f"/api/v1/members/{created['id']}/")

    entries = list(
        AuditEntry.objects.filter(workspace=workspace, object_type="members.member").order_by("id")
    )
    assert [e.action for e in entries] == ["create", "update", "delete"]
    assert entries[1].before["title"] == "" and entries[1].after["title"] == "AE"
    assert entries[0].actor_label.startswith("api key")


@pytest.mark.parametrize(
    "url", ["/api/v1/allocations/null/", "/api/v1/members/1,2/", "/api/v1/capacities/x/"]
)
def test_a_non_numeric_id_is_404_not_500(api, url):
    assert api.get(url).status_code == 404
