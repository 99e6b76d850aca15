"""Every page carries a Content-Security-Policy that forbids inline script, and no template
renders an inline script or event handler that the policy would block."""

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.allocation.factories import AllocationFactory
from tests.factories import MemberFactory, TerritoryFactory

REQUIRED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
ROOT = Path(__file__).resolve().parents[2]


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    parts = [part.strip().split(None, 1) for part in header.split(";") if part.strip()]
    return {name: value for name, value in parts}


@pytest.mark.django_db
def test_every_ui_page_sends_the_policy(browser_client, workspace):
    client = browser_client(workspace, role="admin")
    member = MemberFactory(workspace=workspace)
    territory = TerritoryFactory(workspace=workspace)
    allocation = AllocationFactory(workspace=workspace, owner=member)
    pages = [
        "/",
        "/members/",
        f"/members/{member.pk}/",
        "/territories/",
        f"/territories/{territory.pk}/",
        f"/territories/new/?plan={territory.plan_id}",
        "/capacities/",
        "/allocations/",
        f"/allocations/{allocation.pk}/",
        "/crm/",
        "/api-keys/",
        "/api/docs/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        policy = directives(response)
        for name, value in REQUIRED.items():
            assert policy.get(name) == value, (path, name, policy)
        assert "'unsafe-inline'" not in policy["script-src"]
        assert "<script>" not in response.content.decode(), path


@pytest.mark.django_db
def test_login_admin_and_error_pages_send_the_policy():
    client = Client()
    for path, status in [("/login/", 200), ("/admin/login/", 200), ("/members/", 302)]:
        response = client.get(path)
        assert response.status_code == status, path
        assert directives(response)["script-src"] == "'self'", path


def test_api_docs_send_the_policy_and_json_answers_skip_it(api):
    """The docs are a page; `/api/v1/` answers are JSON no browser renders as a document,
    so the allocation path does not pay for building the header."""
    assert directives(Client().get("/api/docs/"))["script-src"] == "'self'"
    response = api.get("/api/v1/members/")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response


def test_no_template_has_inline_script_or_handlers():
    """An inline block or on* attribute would be blocked by the policy (and is how data used
    to reach script): scripts are static files; data goes through json_script/data-*."""
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
    handler = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
    offenders = []
    for template in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in template.parts:
            continue
        text = template.read_text()
        if inline_script.search(text) or handler.search(text) or "|safe" in text:
            offenders.append(str(template.relative_to(ROOT)))
    assert offenders == []
