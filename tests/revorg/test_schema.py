"""The OpenAPI schema is the contract generated clients are built from: it must be valid,
free of generator warnings, list only operations that are served, and describe every answer
(errors included) as it is sent."""

import re

import pytest
import schemathesis
from django.core.management import call_command
from django.urls import reverse
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import MemberFactory, TerritoryFactory, TerritorySlotFactory, active_plan
from tests.tenant_cases import DETAIL_ROUTES

SCHEMA_URL = "/api/schema/?format=json"
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def served_schema(api):
    response = api.get(SCHEMA_URL)
    assert response.status_code == 200
    return response.json()


def test_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn turns every drf-spectacular warning (unresolved authenticator, enum name
    # collision, unresolved field) into a failure; --validate checks it against OpenAPI 3.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", tmp_path / "s.yml")


def test_schema_is_valid_openapi(served_schema):
    validate(served_schema)


def test_request_bodies_are_json(served_schema):
    """JSON everywhere; CSV uploads (`…/import/`) alone are multipart with the field `file`."""
    uploads = []
    for path, operations in served_schema["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody")
            if body and path.endswith("/import/"):
                assert list(body["content"]) == ["multipart/form-data"], (method, path)
                ref = body["content"]["multipart/form-data"]["schema"]["$ref"]
                upload = served_schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
                assert upload["properties"]["file"]["format"] == "binary"
                assert upload["required"] == ["file"]
                uploads.append(path)
            elif body:
                assert list(body["content"]) == ["application/json"], (method, path)
    assert {
        "/api/v1/members/import/",
        "/api/v1/territories/import/",
        "/api/v1/territories/named-accounts/import/",
    } <= set(uploads)


def test_csv_exports_are_documented_as_csv(served_schema):
    for path in ("/api/v1/members/export/", "/api/v1/territories/export/"):
        assert list(served_schema["paths"][path]["get"]["responses"]["200"]["content"]) == [
            "text/csv"
        ]


def test_allocate_documents_its_response_not_its_request(served_schema):
    create = served_schema["paths"]["/api/v1/allocations/"]["post"]
    ref = create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    allocation = served_schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"owner", "territory", "decision", "writeback", "status"} <= set(
        allocation["properties"]
    )
    record = served_schema["components"]["schemas"]["RecordRequest"]
    assert record["properties"]["fields"]["type"] == "object"


def test_every_operation_documents_its_errors(served_schema):
    for path, operations in served_schema["paths"].items():
        for method, operation in operations.items():
            if method in METHODS:
                assert {"400", "401", "403", "429"} <= set(operation["responses"]), (method, path)


def _templates_with_objects(workspace) -> dict[str, dict]:
    """Schema path template of each detail route → the path parameters of a real object."""
    templates = {}
    for route_name, make in DETAIL_ROUTES.items():
        kwargs = make(workspace)
        path = reverse(route_name, kwargs=kwargs)
        params = {}
        for name, value in kwargs.items():
            param = "id" if name == "pk" else name
            path = path.replace(f"/{value}/", f"/{{{param}}}/", 1)
            params[param] = value
        templates[path] = params
    return templates


def test_every_advertised_operation_is_served(served_schema, api, workspace):
    """No operation in the schema answers 405 or a routing 404 for an object that exists."""
    templates = _templates_with_objects(workspace)
    # Path parameters that name no object of the workspace (a map region's ISO code).
    templates["/api/v1/analytics/map/regions/{code}/"] = {"code": "US"}
    calls = []
    for path, operations in served_schema["paths"].items():
        params = {}
        if "{" in path:
            upto_last_param = path[: path.rindex("}") + 1]
            params = next(p for t, p in templates.items() if t.startswith(upto_last_param))
        url = re.sub(r"\{(\w+)\}", lambda m, params=params: str(params[m.group(1)]), path)
        calls += [(method, url) for method in operations if method in METHODS]
    calls.sort(key=lambda call: call[0] == "delete")  # delete last: others need the objects
    for method, url in calls:
        response = getattr(api, method)(url, {}, format="json")
        assert response.status_code not in (404, 405, 500), (method, url, response.content)


# --- schemathesis: generated requests, every answer checked against the schema ------------------

schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def api_schema(live_server):
    from django.test import Client

    document = Client().get(SCHEMA_URL).json()
    return schemathesis.openapi.from_dict(document)


@pytest.fixture
def key_header(workspace):
    from tests.factories import api_key_for

    member = MemberFactory(workspace=workspace)
    territory = TerritoryFactory(workspace=workspace, plan=active_plan(workspace))
    TerritorySlotFactory(territory=territory, member=member)
    return {"Authorization": f"Bearer {api_key_for(workspace)}"}


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_answers_conform_to_the_schema(case, key_header, live_server):
    case.call_and_validate(
        base_url=live_server.url,
        headers=key_header,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
