"""Member and pipeline sync from HubSpot through hubspot-api-client against a local server:
owners paging (active, then archived), deals search paging, 429 with Retry-After."""

import json

from werkzeug import Response

from capacities.models import PipelineSnapshot
from crm_sync.services import connection_create, sync_start
from members.models import Member

STAMP = "2026-11-01T10:00:00Z"


def owner(oid, first, last):
    return {
        "id": oid,
        "email": f"{first.lower()}@acme.example",
        "firstName": first,
        "lastName": last,
        "userId": int(oid),
        "createdAt": STAMP,
        "updatedAt": STAMP,
        "archived": False,
    }


def deal(did, owner_id):
    return {
        "id": did,
        "properties": {"hubspot_owner_id": owner_id},
        "createdAt": STAMP,
        "updatedAt": STAMP,
        "archived": False,
    }


class FakeHubSpot:
    def __init__(self, httpserver):
        self.active = [
            owner("11", "Ada", "Park"),
            owner("12", "Ben", "Cole"),
            owner("13", "Cy", "Dee"),
        ]
        self.archived = [owner("14", "Dan", "Old")]
        self.deals = [deal("1", "11"), deal("2", "11"), deal("3", "13")]
        self.throttle_owners = 0
        self.retry_after = ""
        self.requests = []
        httpserver.expect_request("/crm/v3/owners/").respond_with_handler(self.owners)
        httpserver.expect_request("/crm/v3/objects/deals/search").respond_with_handler(self.search)
        # Contacts' properties by id, for the SLA acceptance check's batch read.
        self.contacts: dict[str, dict] = {}
        self.contact_reads: list[dict] = []
        httpserver.expect_request(
            "/crm/v3/objects/contacts/batch/read", method="POST"
        ).respond_with_handler(self.contacts_read)

    def owners(self, request):
        self.requests.append(dict(request.args))
        if self.throttle_owners:
            self.throttle_owners -= 1
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return Response("{}", status=429, headers=headers)
        archived = request.args.get("archived", "false").lower() == "true"
        rows = self.archived if archived else self.active
        start = int(request.args.get("after") or 0)
        body = {"results": rows[start : start + 2]}
        if start + 2 < len(rows):
            body["paging"] = {"next": {"after": str(start + 2), "link": "x"}}
        return Response(json.dumps(body), content_type="application/json")

    def contacts_read(self, request):
        query = request.get_json()
        self.contact_reads.append(query)
        results = [
            {"id": item["id"], "properties": {p: self.contacts[item["id"]].get(p)
                                              for p in query["properties"]},
             "createdAt": STAMP, "updatedAt": STAMP, "archived": False}
            for item in query["inputs"]
            if item["id"] in self.contacts
        ]  # fmt: skip
        body = {"status": "COMPLETE", "results": results, "startedAt": STAMP,
                "completedAt": STAMP}  # fmt: skip
        return Response(json.dumps(body), content_type="application/json")

    def search(self, request):
        query = request.get_json()
        start = int(query.get("after") or 0)
        body = {"total": len(self.deals), "results": self.deals[start : start + 2]}
        if start + 2 < len(self.deals):
            body["paging"] = {"next": {"after": str(start + 2), "link": "x"}}
        return Response(json.dumps(body), content_type="application/json")


def hubspot(workspace, httpserver):
    return connection_create(
        workspace=workspace,
        provider="hubspot",
        name="Portal",
        settings={"base_url": httpserver.url_for("").rstrip("/")},
        credentials={"access_token": "pat-na1-secret"},
    )


def run_sync(connection, capture):
    with capture(execute=True):
        run = sync_start(connection=connection)
    run.refresh_from_db()
    return run


def test_owners_and_open_deals_import_then_a_removed_owner_is_deactivated(
    workspace, httpserver, django_capture_on_commit_callbacks
):
    fake = FakeHubSpot(httpserver)
    connection = hubspot(workspace, httpserver)
    run = run_sync(connection, django_capture_on_commit_callbacks)

    assert run.status == "succeeded", run.errors
    assert (run.counts["created"], run.counts["processed"]) == (4, 4)
    members = dict(Member.objects.values_list("crm_user_id", "is_active"))
    assert members == {"11": True, "12": True, "13": True, "14": False}  # 14 is archived
    assert Member.objects.get(crm_user_id="11").name == "Ada Park"
    snapshots = dict(PipelineSnapshot.objects.values_list("member__crm_user_id", "open_deals"))
    assert snapshots == {"11": 2, "12": 0, "13": 1, "14": 0}

    Member.objects.filter(crm_user_id="12").update(metadata={"languages": ["de"]})
    fake.active = [o for o in fake.active if o["id"] != "12"]
    run = run_sync(connection, django_capture_on_commit_callbacks)
    ben = Member.objects.get(crm_user_id="12")
    assert (ben.is_active, ben.metadata) == (False, {"languages": ["de"]})
    assert run.counts["deactivated"] == 1


def test_429_with_retry_after_is_waited_out_without_it_the_run_fails(
    workspace, httpserver, django_capture_on_commit_callbacks
):
    fake = FakeHubSpot(httpserver)
    connection = hubspot(workspace, httpserver)
    fake.throttle_owners, fake.retry_after = 1, "1"  # the client waits 1 s and asks again
    run = run_sync(connection, django_capture_on_commit_callbacks)
    assert run.status == "succeeded"
    assert len(fake.requests) == 4  # 2 active pages (the first one twice), 1 archived

    fake.throttle_owners, fake.retry_after = 1, ""
    run = run_sync(connection, django_capture_on_commit_callbacks)
    assert (run.status, run.errors) == ("failed", ["HubSpot 429"])
