"""API keys: bearer auth, scopes, revocation, and the operator commands that issue them."""

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from revorg import services
from revorg.models import ApiKey, Workspace
from tests.factories import MemberFactory

MEMBERS = "/api/v1/members/"


def bearer(raw_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def test_no_key_is_401_with_bearer_challenge(db):
    response = APIClient().get(MEMBERS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header", ["Bearer rvo_nope_nope", "Bearer", "Bearer a b", "Bearer \u00e9"]
)
def test_unknown_or_malformed_key_is_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.encode().decode("latin-1"))
    assert client.get(MEMBERS).status_code == 401


def test_revoked_key_is_401(workspace):
    issued = services.api_key_create(workspace=workspace, name="k", scopes="read")
    assert bearer(issued.raw_key).get(MEMBERS).status_code == 200
    services.api_key_revoke(api_key=issued.api_key)
    assert bearer(issued.raw_key).get(MEMBERS).status_code == 401


def test_key_is_stored_hashed_with_visible_prefix(workspace):
    issued = services.api_key_create(workspace=workspace, name="k", scopes="read")
    stored = ApiKey.objects.get(pk=issued.api_key.pk)
    assert issued.raw_key not in (stored.hashed_key, stored.prefix)
    assert issued.raw_key.startswith(f"rvo_{stored.prefix}_")


def test_use_records_last_used_at(workspace):
    issued = services.api_key_create(workspace=workspace, name="k", scopes="read")
    assert issued.api_key.last_used_at is None
    bearer(issued.raw_key).get(MEMBERS)
    assert ApiKey.objects.get(pk=issued.api_key.pk).last_used_at is not None


def test_read_only_key_cannot_write(make_client, workspace):
    client = make_client(workspace, scopes="read")
    response = client.post(MEMBERS, {"name": "X"}, format="json")
    assert response.status_code == 403
    assert "write" in response.json()["detail"]


def test_write_only_key_cannot_read(make_client, workspace):
    assert make_client(workspace, scopes="write").get(MEMBERS).status_code == 403


def test_unknown_scope_is_refused(workspace):
    with pytest.raises(services.ApplicationError, match="unknown scope"):
        services.api_key_create(workspace=workspace, name="k", scopes="read,admin")


def test_create_workspace_and_api_key_commands(db):
    out = StringIO()
    call_command("create_workspace", "acme", name="Acme Inc", stdout=out)
    workspace = Workspace.objects.get(slug="acme")
    assert out.getvalue().strip() == str(workspace.pk)

    out = StringIO()
    call_command("create_api_key", "acme", name="plays", scopes="allocate,read,write", stdout=out)
    raw_key = out.getvalue().strip().splitlines()[-1]
    MemberFactory(workspace=workspace, name="Ada")
    response = bearer(raw_key).get(MEMBERS)
    assert response.status_code == 200
    assert [m["name"] for m in response.json()["results"]] == ["Ada"]


def test_viewer_user_reads_but_cannot_write(user_client, workspace):
    client = user_client(workspace, role="viewer")
    assert client.get(MEMBERS).status_code == 200
    assert client.post(MEMBERS, {"name": "X"}, format="json").status_code == 403


def test_admin_user_writes_through_session(user_client, workspace):
    client = user_client(workspace, role="admin")
    assert client.post(MEMBERS, {"name": "X"}, format="json").status_code == 201


def test_user_without_workspace_is_403(db):
    from tests.factories import UserFactory

    client = APIClient()
    client.force_login(UserFactory())
    assert client.get(MEMBERS).status_code == 403
