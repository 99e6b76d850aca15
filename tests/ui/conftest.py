import pytest
from django.test import Client

from tests.factories import MembershipFactory


@pytest.fixture
def browser_client():
    """A logged-in session for a new member of `workspace` with `role` (no browser needed)."""

    def make(workspace, role="admin", member=None, territory=None):
        membership = MembershipFactory(
            workspace=workspace, role=role, member=member, territory=territory
        )
        client = Client()
        client.force_login(membership.user)
        return client

    return make
