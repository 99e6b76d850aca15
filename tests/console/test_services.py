from console.services import workspace_setup
from revorg.models import Workspace
from revorg.services import workspace_create
from territories.models import TerritoryPlan


def test_a_new_workspace_can_allocate_at_once_through_its_active_plan(make_client):
    workspace = workspace_setup(slug="fresh", name="Fresh")
    plans = make_client(workspace).get("/api/v1/territory-plans/").json()["results"]
    assert [p["status"] for p in plans] == ["active"]


def test_the_kernel_alone_creates_a_bare_workspace(db):
    workspace = workspace_create(slug="bare", name="Bare")
    assert Workspace.objects.filter(slug="bare").exists()
    assert not TerritoryPlan.objects.filter(workspace=workspace).exists()
