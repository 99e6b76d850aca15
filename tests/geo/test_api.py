"""`/api/v1/analytics/map/…`: read scope for the data, write scope (admin) for the locate
job; another workspace sees only its own book; bad parameters are 400s naming the field."""

import threading

import pytest
from django.db import connection
from django.test import Client

from geo.models import AccountPlace
from jobs.models import Job
from tests.book.factories import AccountFactory
from tests.factories import MemberFactory, MembershipFactory
from tests.geo.helpers import locate, small_book

pytestmark = pytest.mark.django_db

REGIONS = "/api/v1/analytics/map/regions/"
PINS = "/api/v1/analytics/map/pins/"
LOCATE = "/api/v1/analytics/map/locate/"


@pytest.fixture
def book(workspace, django_capture_on_commit_callbacks):
    book = small_book(workspace)
    locate(workspace, django_capture_on_commit_callbacks)
    return book


def test_a_read_key_gets_regions_pins_and_a_region(make_client, workspace, book):
    reader = make_client(workspace, scopes="read")
    regions = reader.get(REGIONS).json()
    assert {r["code"]: r["accounts"] for r in regions["countries"]} == {"US": 5, "FR": 2}
    assert regions["placement"]["unresolved"] == 2
    pins = reader.get(PINS, {"bbox": "-180,-90,180,90", "zoom": "0"}).json()
    assert pins["accounts"] == 6
    ny = reader.get(f"{REGIONS}us-ny/").json()
    assert [a["name"] for a in ny["orphaned_accounts"]] == ["Albany Co", "Buffalo Co"]


def test_another_workspace_sees_its_own_book_only(other_api, workspace, book):
    assert other_api.get(REGIONS).json()["countries"] == []
    assert other_api.get(PINS, {"bbox": "-180,-90,180,90"}).json()["clusters"] == []
    assert other_api.get(f"{REGIONS}US-NY/").json()["orphaned_count"] == 0
    # Another workspace's member as the owner filter is refused like an unknown one.
    response = other_api.get(REGIONS, {"owner": book["ada"].pk})
    assert response.status_code == 400 and "owner" in response.json()


def test_an_unknown_region_is_a_404(api, book):
    assert api.get(f"{REGIONS}XX/").status_code == 404
    assert api.get(f"{REGIONS}US-ZZ/").status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "bbox"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "-200,0,10,10"}, "bbox"),
        ({"bbox": "0,10,10,0"}, "bbox"),
        ({"bbox": "nan,0,10,10"}, "bbox"),
        ({"bbox": "0,0,10,10", "zoom": "99"}, "zoom"),
        ({"bbox": "0,0,10,10", "zoom": "²"}, "zoom"),
        ({"bbox": "0,0,10,10", "level": "0"}, "level"),
        ({"bbox": "0,0,10,10", "owner": "x"}, "owner"),
    ],
)
def test_bad_parameters_are_400s_naming_the_field(api, book, params, field):
    response = api.get(PINS, params)
    assert response.status_code == 400
    assert field in response.json()


def test_locate_needs_write_scope_and_admin(
    make_client, user_client, workspace, book, django_capture_on_commit_callbacks
):
    assert make_client(workspace, scopes="read").post(LOCATE).status_code == 403
    assert user_client(workspace, role="manager").post(LOCATE).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = make_client(workspace, scopes="write").post(LOCATE)
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert job.handler == "geo.accounts_locate" and job.status == "succeeded"


def test_regions_place_new_accounts_lazily(
    api, workspace, book, django_capture_on_commit_callbacks
):
    fresh = AccountFactory(workspace=workspace, fields={"country": "US", "postal_code": "10001"})
    with django_capture_on_commit_callbacks(execute=True):
        first = api.get(REGIONS).json()
    assert first["placement"]["pending"] == 1
    assert AccountPlace.objects.get(account=fresh).precision == "postal_code"
    assert api.get(REGIONS).json()["placement"] == {
        "accounts": 9,
        "located": 7,
        "unresolved": 2,
        "pending": 0,
    }


def test_the_schema_documents_the_map_endpoints(api):
    paths = set(api.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"])
    assert {REGIONS, PINS, LOCATE, REGIONS + "{code}/"} <= paths


@pytest.mark.django_db(transaction=True)
def test_two_locate_requests_at_once_place_each_account_once(workspace, settings):
    settings.JOBS_EAGER_MODE = "inline"
    small_book(workspace)
    clients = []
    for _ in range(2):
        membership = MembershipFactory(workspace=workspace, role="admin")
        client = Client(enforce_csrf_checks=False)
        client.force_login(membership.user)
        clients.append(client)
    barrier = threading.Barrier(2)
    statuses = []

    def post(client):
        try:
            barrier.wait()
            statuses.append(client.post(LOCATE).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [202, 202]
    assert AccountPlace.objects.filter(workspace=workspace).count() == 8
    assert (
        Job.objects.filter(workspace=workspace, handler="geo.accounts_locate")
        .exclude(status="succeeded")
        .count()
        == 0
    )
    MemberFactory(workspace=workspace)  # the workspace is usable after both
