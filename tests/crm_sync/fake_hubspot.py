"""HubSpot's companies and deals as hubspot-api-client reads them, on pytest-httpserver: the
objects list (with `associations=companies` for deals), search by `hs_lastmodifieddate`
(ascending, paged by `after`), associations v4 batch read; failures can be injected (status,
headers) and the access token revoked."""

import json

from werkzeug import Response

STAMP = "2026-11-01T10:00:00.000Z"
PAGE = 2


def company(cid, *, country="US", owner="11", stamp=STAMP, **extra):
    return {
        "id": str(cid),
        "properties": {
            "name": f"Company {cid}",
            "hubspot_owner_id": owner,
            "country": country,
            "state": "CA",
            "zip": "94105",
            "city": "San Francisco",
            "industry": "COMPUTER_SOFTWARE",
            "numberofemployees": "250",
            "annualrevenue": "1000000",
            "domain": f"company{cid}.example",
            "hs_lastmodifieddate": stamp,
            **extra,
        },
    }


def deal(did, company_id, *, stamp=STAMP, closed=False):
    return {
        "id": str(did),
        "company": str(company_id) if company_id else None,
        "properties": {
            "dealname": f"Deal {did}",
            "hubspot_owner_id": "11",
            "dealstage": "closedwon" if closed else "appointmentscheduled",
            "hs_deal_stage_probability": "1.0" if closed else "0.2",
            "amount": "4200",
            "closedate": "2026-12-01T00:00:00Z",
            "hs_is_closed": "true" if closed else "false",
            "hs_is_closed_won": "true" if closed else "false",
            "createdate": "2026-10-01T00:00:00Z",
            "hs_lastmodifieddate": stamp,
        },
    }


def _epoch_ms(stamp: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)


class FakeHubSpotBook:
    def __init__(self, httpserver, token="pat-na1-secret"):
        self.companies: list[dict] = []
        self.deals: list[dict] = []
        self.token = token
        self.failures: list[tuple[int, dict]] = []  # (status, headers) for the next requests
        self.requests: list[tuple[str, str]] = []  # (path, after) of object reads
        self.association_reads: list[list[str]] = []
        # After this many object reads the token is revoked (a new one must be saved).
        self.revoke_after: int | None = None
        for kind in ("companies", "deals"):
            httpserver.expect_request(f"/crm/v3/objects/{kind}", method="GET").respond_with_handler(
                lambda request, kind=kind: self.listing(request, kind)
            )
            httpserver.expect_request(
                f"/crm/v3/objects/{kind}/search", method="POST"
            ).respond_with_handler(lambda request, kind=kind: self.search(request, kind))
        httpserver.expect_request(
            "/crm/v4/associations/deals/companies/batch/read", method="POST"
        ).respond_with_handler(self.associations)

    def _refused(self, request):
        if self.revoke_after is not None:
            self.revoke_after -= 1
            if self.revoke_after < 0:
                self.token, self.revoke_after = "rotated", None
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json({"status": "error", "message": "expired", "category": "EXPIRED"}, 401)
        if self.failures:
            status, headers = self.failures.pop(0)
            return _json({"status": "error", "message": "busy"}, status, headers)
        return None

    def _item(self, kind, row, *, with_associations):
        item = {
            "id": row["id"],
            "properties": row["properties"],
            "createdAt": STAMP,
            "updatedAt": row["properties"]["hs_lastmodifieddate"],
            "archived": False,
        }
        if with_associations and kind == "deals" and row.get("company"):
            item["associations"] = {
                "companies": {"results": [{"id": row["company"], "type": "deal_to_company"}]}
            }
        return item

    def _page(self, kind, rows, after, *, with_associations, total=None):
        start = int(after or 0)
        body = {
            "results": [
                self._item(kind, row, with_associations=with_associations)
                for row in rows[start : start + PAGE]
            ]
        }
        if total is not None:
            body["total"] = total
        if start + PAGE < len(rows):
            body["paging"] = {"next": {"after": str(start + PAGE), "link": "x"}}
        return _json(body)

    def listing(self, request, kind):
        self.requests.append((request.path, request.args.get("after") or ""))
        if refused := self._refused(request):
            return refused
        rows = self.companies if kind == "companies" else self.deals
        wanted = request.args.get("associations", "")
        return self._page(
            kind, rows, request.args.get("after"), with_associations="companies" in wanted
        )

    def search(self, request, kind):
        query = request.get_json()
        self.requests.append((request.path, str(query.get("after") or "")))
        if refused := self._refused(request):
            return refused
        rows = self.companies if kind == "companies" else self.deals
        for group in query.get("filterGroups", []):
            for f in group["filters"]:
                if f["propertyName"] == "hs_lastmodifieddate" and f["operator"] == "GT":
                    since = int(f["value"])
                    rows = [
                        r for r in rows if _epoch_ms(r["properties"]["hs_lastmodifieddate"]) > since
                    ]
        rows = sorted(rows, key=lambda r: r["properties"]["hs_lastmodifieddate"])
        return self._page(kind, rows, query.get("after"), with_associations=False, total=len(rows))

    def associations(self, request):
        if refused := self._refused(request):
            return refused
        ids = [item["id"] for item in request.get_json()["inputs"]]
        self.association_reads.append(ids)
        by_id = {d["id"]: d for d in self.deals}
        results = [
            {
                "from": {"id": deal_id},
                "to": [
                    {
                        "toObjectId": int(by_id[deal_id]["company"]),
                        "associationTypes": [
                            {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": None}
                        ],
                    }
                ],
            }
            for deal_id in ids
            if by_id.get(deal_id, {}).get("company")
        ]
        return _json(
            {
                "status": "COMPLETE",
                "results": results,
                "startedAt": STAMP,
                "completedAt": STAMP,
            }
        )


def _json(body, status=200, headers=None):
    return Response(
        json.dumps(body), status=status, headers=headers or {}, content_type="application/json"
    )
