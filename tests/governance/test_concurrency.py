"""Two admins demote each other at the same moment through the real HTTP stack (Django's
live_server, one thread and one database connection per request) on Postgres: role changes
are serialised per workspace, so one wins and the other is refused with 409; the workspace
always keeps exactly one admin."""

import threading

import pytest
import requests

from revorg.models import WorkspaceMembership
from tests.factories import MembershipFactory, WorkspaceFactory, api_key_for

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 6


def _demote_together(base_url: str, key: str, user_ids: list[int]) -> list:
    """PATCHes every user to viewer at the same moment; the answers, in order."""
    barrier = threading.Barrier(len(user_ids))
    answers = [None] * len(user_ids)

    def demote(index):
        barrier.wait()
        answers[index] = requests.patch(
            f"{base_url}/api/v1/users/{user_ids[index]}/",
            json={"role": "viewer"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )

    threads = [threading.Thread(target=demote, args=(i,)) for i in range(len(user_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_two_admins_demoting_each_other_at_once_leave_one_admin(live_server):
    workspace = WorkspaceFactory()
    key = api_key_for(workspace)
    refused = 0
    for _ in range(ROUNDS):
        WorkspaceMembership.objects.filter(workspace=workspace).delete()
        admins = [MembershipFactory(workspace=workspace, role="admin") for _ in range(2)]
        answers = _demote_together(live_server.url, key, [a.user_id for a in admins])

        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        refusal = next(a for a in answers if a.status_code == 409)
        assert "last admin" in refusal.json()["detail"]
        assert WorkspaceMembership.objects.filter(workspace=workspace, role="admin").count() == 1
        refused += 1
    assert refused == ROUNDS
