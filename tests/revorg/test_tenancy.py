"""Browser views read rows through one helper: another workspace's row is a 404 like a
missing one, and a request without a workspace sees nothing."""

from types import SimpleNamespace

import pytest
from django.http import Http404

from members.models import Member
from revorg.tenancy import workspace_object_or_404, workspace_rows
from tests.factories import MemberFactory, MembershipFactory


def _admin_request(workspace):
    """A request of an admin (whose scope is the whole workspace: revorg.scope)."""
    return SimpleNamespace(
        workspace=workspace, membership=MembershipFactory(workspace=workspace, role="admin")
    )


def test_rows_of_the_request_workspace_only(workspace, other_workspace):
    mine = MemberFactory(workspace=workspace)
    MemberFactory(workspace=other_workspace)
    request = _admin_request(workspace)
    assert list(workspace_rows(request, Member)) == [mine]
    assert list(workspace_rows(request, Member.objects.filter(pk=mine.pk))) == [mine]


def test_no_workspace_fails_closed(workspace):
    MemberFactory(workspace=workspace)
    assert not workspace_rows(SimpleNamespace(workspace=None), Member).exists()
    assert not workspace_rows(SimpleNamespace(), Member).exists()


def test_another_workspaces_row_is_a_404_like_a_missing_one(workspace, other_workspace):
    theirs = MemberFactory(workspace=other_workspace)
    request = _admin_request(workspace)
    with pytest.raises(Http404):
        workspace_object_or_404(request, Member, pk=theirs.pk)
    with pytest.raises(Http404):
        workspace_object_or_404(request, Member, pk=theirs.pk + 1000)
    mine = MemberFactory(workspace=workspace)
    assert workspace_object_or_404(request, Member, pk=mine.pk) == mine
