"""Query strings and form fields a page cannot use are a 400 naming the field, never a 500.

The walk is generated: every page of the UI's URL conf is fetched as an admin, and every
query parameter its links and filter forms use, and every field of every form it shows, is
sent again holding each hostile value. The API's list filters get the same treatment.
"""

from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import URLPattern, get_resolver, reverse
from django.utils import timezone

from allocation.models import Allocation
from console import urls as ui_urls
from crm_sync.models import SyncRun, WritebackOutbox
from jobs.models import Job
from notifications.events import publish
from notifications.models import WebhookDelivery
from reassignments.models import ReassignmentRequest
from revorg.parsing import BadParameter, parse_id, parse_int
from sla.models import SlaPolicy
from tests.allocation.factories import AllocationFactory
from tests.book.factories import AccountFactory
from tests.capacities.factories import CapacityFactory
from tests.crm_sync.factories import CrmConnectionFactory
from tests.factories import (
    AbsenceFactory,
    AccountLockFactory,
    MemberFactory,
    MembershipFactory,
    TerritoryFactory,
    TerritoryPlanFactory,
    TerritorySlotFactory,
    WorkspaceFactory,
)
from tests.notifications.factories import endpoint_for
from tests.tenant_cases import _transition_move

HOSTILE_VALUES = ["²", "-1", "9999999999999999999999", "\x00", "abc"]
# Parameters pages read that no link on a small workspace shows (the next page's cursor...).
UNLINKED_PARAMETERS = ["page", "before", "plan", "owner", "q", "member_q", "status", "role"]
SKIPPED_PATHS = ("/api/", "/admin/", "/static/", "/logout/")


class PageParts(HTMLParser):
    """The forms (action, method, fields with their values) and links of one page."""

    def __init__(self):
        super().__init__()
        self.forms, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "action": attrs.get("action") or "",
                    "method": (attrs.get("method") or "get").lower(),
                    "fields": {},
                }
            )
        elif tag in ("input", "select", "textarea") and self.forms and attrs.get("name"):
            if attrs.get("type") not in ("submit", "button"):
                self.forms[-1]["fields"].setdefault(attrs["name"], attrs.get("value") or "")
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def parts_of(response):
    parser = PageParts()
    parser.feed(response.content.decode())
    return parser


@pytest.fixture
def world(workspace):
    """One of everything a page can show, in a workspace whose admin belongs to two."""
    member = MemberFactory(workspace=workspace)
    territory = TerritoryFactory(workspace=workspace)
    TerritorySlotFactory(territory=territory, member=member)
    draft = TerritoryPlanFactory(workspace=workspace, status="draft", name="Draft")
    TerritoryFactory(workspace=workspace, plan=draft)
    CapacityFactory(member=member)
    absence = AbsenceFactory(member=member)
    allocation = AllocationFactory(workspace=workspace, owner=member, territory=territory)
    WritebackOutbox.objects.create(
        workspace=workspace,
        allocation=allocation,
        provider="hubspot",
        record_type="lead",
        record_id="1",
        owner_crm_user_id="7",
        status="failed",
        next_attempt_at=timezone.now(),
    )
    connection = CrmConnectionFactory(workspace=workspace)
    run = SyncRun.objects.create(workspace=workspace, connection=connection, kind="members")
    account = AccountFactory(workspace=workspace)
    job = Job.objects.create(
        workspace=workspace, kind="reevaluate", handler="book.reevaluate", status="running"
    )
    replay = Job.objects.create(
        workspace=workspace,
        kind="replay",
        handler="replay.replay",
        status="succeeded",
        params={"plan": draft.pk, "since": "2026-03-01T00:00:00+00:00", "until": "2026-03-02"},
    )
    webhook, _ = endpoint_for(workspace, "http://127.0.0.1:9/hooks")
    publish(workspace=workspace, event_type="job.finished", data={"id": job.pk})
    admin = MembershipFactory(workspace=workspace, role="admin").user
    MembershipFactory(workspace=WorkspaceFactory(), user=admin)
    reassignment = ReassignmentRequest.objects.create(
        workspace=workspace,
        to_member=member,
        reason="x",
        effective_at=timezone.now(),
        requested_by_label="tests",
        required_approvals=[f"incoming:{member.pk}"],
    )
    policy = SlaPolicy.objects.create(workspace=workspace, name="P", respond_within_minutes=60)
    invited = MembershipFactory(workspace=workspace, role="viewer")  # no password yet
    invited.user.set_unusable_password()
    invited.user.save(update_fields=["password"])
    return {
        "pk": {
            "member-detail": member.pk,
            "member-activation": member.pk,
            "absence-add": member.pk,
            "member-working-hours": member.pk,
            "account-lock-delete": AccountLockFactory(territory=territory, workspace=workspace).pk,
            "territory-edit": territory.pk,
            "plan-activate": draft.pk,
            "plan-unschedule": draft.pk,
            "transition-move-apply": _transition_move(workspace)["pk"],
            "transition-move-dismiss": _transition_move(workspace)["pk"],
            "plan-clone": draft.pk,
            "plan-rename": draft.pk,
            "plan-delete": draft.pk,
            "plan-compare": draft.pk,
            "plan-simulate": draft.pk,
            "plan-rebalance-accept": draft.pk,
            "territory-delete": territory.pk,
            "capacity-edit": member.capacities.first().pk,
            "capacity-delete": member.capacities.first().pk,
            "crm-test": connection.pk,
            "crm-sync": connection.pk,
            "crm-reconnect": connection.pk,
            "crm-field-mapping": connection.pk,
            "crm-sync-book": connection.pk,
            "crm-delete": connection.pk,
            "sync-run": run.pk,
            "allocation-detail": allocation.pk,
            "writeback-retry": allocation.pk,
            "api-key-revoke": None,
            "job": job.pk,
            "job-cancel": job.pk,
            "account": account.pk,
            "book-import": "accounts",
            "plan-replay": draft.pk,
            "queue-accept": allocation.pk,
            "reassignment-decide": reassignment.pk,
            "webhook": webhook.pk,
            "webhook-toggle": webhook.pk,
            "webhook-delete": webhook.pk,
            "user-change": MembershipFactory(workspace=workspace, role="viewer").user_id,
            "user-resend-invitation": invited.user_id,
            "sla-policy-edit": policy.pk,
            "sla-policy-delete": policy.pk,
        },
        "replay": [draft.pk, replay.pk],
        "delivery": WebhookDelivery.objects.get(endpoint=webhook),
        "absence": absence,
        "admin": admin,
    }


def ui_pages(world):
    """Every URL of the UI's URL conf, with the ids of real objects filled in."""
    pages = []
    for pattern in ui_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        names = set(pattern.pattern.converters)
        if not names:
            pages.append(reverse(f"ui:{pattern.name}"))
        elif pattern.name == "reassignment-decide":
            pk = world["pk"][pattern.name]
            pages += [reverse(f"ui:{pattern.name}", args=[pk, verb]) for verb in ("approve", "x")]
        elif pattern.name == "absence-delete":
            absence = world["absence"]
            pages.append(reverse(f"ui:{pattern.name}", args=[absence.member_id, absence.pk]))
        elif pattern.name in ("plan-replay-result", "plan-replay-moves"):
            pages.append(reverse(f"ui:{pattern.name}", args=world["replay"]))
        elif pattern.name == "webhook-redeliver":
            delivery = world["delivery"]
            pages.append(reverse(f"ui:{pattern.name}", args=[delivery.endpoint_id, delivery.pk]))
        elif world["pk"][pattern.name] is not None:
            pages.append(reverse(f"ui:{pattern.name}", args=[world["pk"][pattern.name]]))
    return pages


def targets(client, pages):
    """(method, url, fields) for every page's query parameters and every form it shows."""
    found, seen_pages = [], set()
    queue = list(pages)
    while queue:
        url = queue.pop(0)
        if url in seen_pages or len(seen_pages) > 80:
            continue
        seen_pages.add(url)
        response = client.get(url)
        assert response.status_code < 500, url
        path = urlsplit(url).path
        params = dict.fromkeys(UNLINKED_PARAMETERS, "")
        params.update(parse_qsl(urlsplit(url).query))
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            found.append(("get", path, params))
            continue
        page = parts_of(response)
        for href in page.links:
            link = urlsplit(href)
            if link.netloc or not link.path.startswith("/") or link.path.startswith(SKIPPED_PATHS):
                continue
            params.update(dict.fromkeys(name for name, _ in parse_qsl(link.query)))
            queue.append(href if link.query else link.path)
        for form in page.forms:
            action = form["action"] or path
            if action.startswith(SKIPPED_PATHS):
                continue
            fields = {k: v for k, v in form["fields"].items() if k != "csrfmiddlewaretoken"}
            if form["method"] == "get":
                params.update(fields)
            elif fields:
                found.append(("post", action, fields))
        found.append(("get", path, {k: v or "" for k, v in params.items()}))
    return found


@pytest.mark.django_db
def test_every_page_and_form_answers_hostile_values_without_a_500(client, world):
    client.force_login(world["admin"])
    walked = targets(client, ui_pages(world))
    assert len([t for t in walked if t[0] == "post"]) >= 6  # member, absence, capacity, ...
    failures, nul_answers = [], []
    for method, url, fields in walked:
        for name in fields:
            for value in HOSTILE_VALUES:
                data = {**fields, name: value}
                send = client.get if method == "get" else client.post
                response = send(url, data)
                if response.status_code >= 500:
                    failures.append((method, url, name, value, response.status_code))
                if value == "\x00":
                    nul_answers.append((url, name, response))
    assert failures == []
    for url, name, response in nul_answers:
        assert response.status_code == 400, (url, name)
        assert f"“{name}” contains a NUL character" in response.content.decode(), (url, name)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url, field, message",
    [
        ("/allocations/?owner=²", "owner", "Owner must be the id of an existing item."),
        ("/allocations/?before=9999999999999999999999", "before", "Before must be the id"),
        ("/territories/?plan=abc", "plan", "Plan must be the id of an existing item."),
        ("/territories/new/?plan=-1", "plan", "Plan must be the id of an existing item."),
        ("/members/?q=a%00b", "q", "“q” contains a NUL character (\\x00)"),
    ],
)
def test_a_bad_query_value_is_a_400_page_naming_the_field(
    user_client, workspace, url, field, message
):
    response = user_client(workspace).get(url)
    assert response.status_code == 400
    assert response.templates[0].name == "400.html"
    body = response.content.decode()
    assert message in body
    assert f'data-field="{field}"' in body
    assert "Back to the dashboard" in body


@pytest.mark.django_db
def test_a_nul_in_a_form_field_is_refused_before_anything_is_written(user_client, workspace):
    client = user_client(workspace)
    member = MemberFactory(workspace=workspace, name="Kept")
    response = client.post(
        f"/members/{member.pk}/", {"name": "Kept", "languages": "en, fr\x00", "email": ""}
    )
    assert response.status_code == 400
    assert "“languages” contains a NUL character" in response.content.decode()
    member.refresh_from_db()
    assert member.metadata == {"languages": ["en"]}


@pytest.mark.django_db
def test_a_crm_form_with_a_bad_interval_names_the_field(user_client, workspace):
    client = user_client(workspace)
    response = client.post(
        "/crm/", {"provider": "hubspot", "access_token": "t", "sync_interval_minutes": "²"}
    )
    assert response.status_code == 400
    assert "Sync interval minutes must be a whole number." in response.content.decode()


@pytest.mark.django_db
def test_the_workspace_switcher_refuses_a_bad_id(user_client, workspace):
    response = user_client(workspace).post("/workspace/switch/", {"workspace": "²"})
    assert response.status_code == 400
    assert "Workspace must be the id of an existing item." in response.content.decode()


def api_list_endpoints():
    """(url name, its path arguments, query parameters) of every list endpoint of the API:
    its filters and paging."""
    endpoints = []
    for pattern in get_resolver().url_patterns:
        if str(pattern.pattern) != "api/v1/":
            continue
        for url_pattern in walk(pattern.url_patterns):
            view = getattr(url_pattern.callback, "cls", None)
            if not url_pattern.name or not url_pattern.name.endswith("-list") or view is None:
                continue
            names = (
                list(getattr(view, "filterset_class", None).base_filters)
                if getattr(view, "filterset_class", None)
                else []
            )
            names += ["page", "page_size", "cursor"]
            endpoints.append((url_pattern.name, list(url_pattern.pattern.converters), names))
    return endpoints


def walk(patterns):
    for item in patterns:
        if isinstance(item, URLPattern):
            yield item
        else:
            yield from walk(item.url_patterns)


@pytest.mark.django_db
@pytest.mark.parametrize("url_name, arguments, parameters", api_list_endpoints())
def test_api_list_filters_answer_hostile_values_in_json(
    api, workspace, url_name, arguments, parameters
):
    allocation = AllocationFactory(workspace=workspace)
    url = reverse(url_name, kwargs=dict.fromkeys(arguments, allocation.owner_id))
    for name in parameters:
        for value in HOSTILE_VALUES:
            response = api.get(url, {name: value})
            assert response.status_code < 500, (url, name, value)
            assert response["Content-Type"] == "application/json", (url, name, value)
            if value == "\x00":
                assert response.status_code == 400
                assert name in response.json(), (url, name)
    assert Allocation.objects.count() == 1


def test_parse_int_accepts_ascii_whole_numbers_only():
    assert parse_int(" 42 ", field="limit") == 42
    assert parse_int("-3", field="limit") == -3
    assert parse_int("", field="limit", default=7) == 7
    for bad in ["²", "٣", "4.0", "1e3", "abc", "1" * 30, "\x00"]:
        with pytest.raises(BadParameter, match="Limit must be a whole number"):
            parse_int(bad, field="limit")
    with pytest.raises(BadParameter, match="at least 1"):
        parse_int("0", field="limit", minimum=1)


def test_parse_id_is_a_positive_bigint():
    assert parse_id("9223372036854775807", field="plan") == 2**63 - 1
    assert parse_id(None, field="plan") is None
    for bad in ["0", "-1", "9223372036854775808", "²"]:
        with pytest.raises(BadParameter) as refused:
            parse_id(bad, field="plan")
        assert refused.value.field == "plan"
