import pytest
from rest_framework.test import APIClient

from tests.factories import MemberFactory, MembershipFactory


class Org:
    """A small sales org: a rep under a manager, a new owner under another manager, an
    admin, each a signed-in person linked to their member."""

    def __init__(self, workspace):
        self.workspace = workspace
        self.old_manager = MemberFactory(workspace=workspace, name="Olga Old-Manager")
        self.new_manager = MemberFactory(workspace=workspace, name="Nadia New-Manager")
        self.rep = MemberFactory(workspace=workspace, name="Ravi Rep", manager=self.old_manager)
        self.new_rep = MemberFactory(
            workspace=workspace, name="Nico New-Rep", manager=self.new_manager
        )

    def person(self, role, member=None):
        membership = MembershipFactory(workspace=self.workspace, role=role, member=member)
        client = APIClient()
        client.force_login(membership.user)
        client.user = membership.user
        return client


@pytest.fixture
def org(workspace):
    return Org(workspace)
