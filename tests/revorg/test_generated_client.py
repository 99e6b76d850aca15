"""A client generated from the served schema by openapi-python-client imports and works:
members → territory → allocate → read the allocation → history, through typed attributes."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import WorkspaceFactory, active_plan, api_key_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def generated_client(tmp_path, monkeypatch):
    schema = tmp_path / "schema.json"
    schema.write_bytes(Client().get("/api/schema/?format=json").content)
    config = tmp_path / "config.yml"
    config.write_text("post_hooks: []\n")  # no formatter run: the code is imported as generated
    generator = Path(sys.executable).with_name("openapi-python-client")
    subprocess.run(
        [generator, "generate", "--path", schema, "--meta", "none",
         "--output-path", tmp_path / "revorg_client", "--config", config],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "revorg_client" or m.startswith("revorg_client.")]:
        del sys.modules[name]
    return importlib.import_module("revorg_client")


def test_generated_client_drives_members_territory_allocate_and_history(
    generated_client, live_server
):
    from revorg_client.api.allocations import (
        allocations_create,
        allocations_list,
        allocations_retrieve,
    )
    from revorg_client.api.members import members_create
    from revorg_client.api.territories import territories_create
    from revorg_client.models import (
        AllocateRequest,
        AllocationStatusEnum,
        MemberRequest,
        RecordRequest,
        RecordRequestFields,
        RoleEnum,
        SlotRequest,
        TerritoryRequest,
        TypeEnum,
    )

    workspace = WorkspaceFactory()
    active_plan(workspace)
    client = generated_client.AuthenticatedClient(
        base_url=live_server.url, token=api_key_for(workspace), raise_on_unexpected_status=True
    )

    ada = members_create.sync(client=client, body=MemberRequest(name="Ada Park", email="ada@x.io"))
    assert ada.id > 0 and ada.name == "Ada Park"

    west = territories_create.sync(
        client=client,
        body=TerritoryRequest(
            name="West",
            rule={"field": "state", "op": "in", "value": ["CA", "OR"]},
            slots=[SlotRequest(member=ada.id, role=RoleEnum.PRIMARY)],
        ),
    )
    assert west.name == "West"

    fields = RecordRequestFields.from_dict({"country": "US", "state": "CA", "employees": 620})
    allocated = allocations_create.sync(
        client=client,
        body=AllocateRequest(record=RecordRequest(type_=TypeEnum.LEAD, id="00Q1", fields=fields)),
    )
    assert allocated.status == AllocationStatusEnum.ASSIGNED
    assert allocated.owner.id == ada.id
    assert allocated.territory.id == west.id

    read = allocations_retrieve.sync(client=client, id=allocated.id)
    assert read.owner.name == "Ada Park"
    assert read.territory.name == "West"
    assert read.record.fields.additional_properties["state"] == "CA"
    assert read.decision[0].step == "territory"
    assert read.writeback.status == "none"

    history = allocations_list.sync(client=client)
    assert [entry.id for entry in history.results] == [allocated.id]
