"""The users page in headless Chromium: an admin invites a person (the e-mail goes out with
a set-password link), resends the invitation, then makes them a director of a territory;
screenshots of each."""

import re

import pytest
from django.core import mail

from revorg.models import WorkspaceMembership
from tests.factories import MemberFactory, MembershipFactory, TerritoryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-1"


def test_admin_invites_a_person_and_changes_their_role(page, login, shot, workspace):
    admin = MembershipFactory(workspace=workspace, role="admin").user
    MemberFactory(workspace=workspace, name="Ada Lovelace")
    west = TerritoryFactory(workspace=workspace, name="West")

    login(admin.username, PASSWORD)
    page.click("nav >> text=Users")
    invite = page.locator("[data-testid=invite]")
    invite.locator("input[name=email]").fill("ada@example.com")
    invite.locator("select[name=role]").select_option("rep")
    invite.locator("select[name=member]").select_option(
        label="Ada Lovelace (ada.lovelace@example.com)"
    )
    invite.locator("button").click()
    page.wait_for_selector(".messages >> text=Invitation sent to ada@example.com.")
    row = page.locator("tr[data-user='ada@example.com']")
    assert row.locator(".badge.warn").inner_text() == "invited"
    shot("users_invited")

    [message] = mail.outbox
    assert re.search(r"http://[^/\s]+/invitation/\S+/\S+/", message.body)
    membership = WorkspaceMembership.objects.get(user__email="ada@example.com")
    assert (membership.role, membership.member.name) == ("rep", "Ada Lovelace")

    row.locator("button", has_text="Resend invitation").click()
    page.wait_for_selector(".messages >> text=A new invitation went to ada@example.com")
    assert len(mail.outbox) == 2 and mail.outbox[1].to == ["ada@example.com"]
    shot("users_invitation_resent")

    row.locator("select[name=role]").select_option("director")
    row.locator("select[name=territory]").select_option(label="West")
    row.locator("button", has_text="Save").click()
    page.wait_for_selector(".messages >> text=ada@example.com saved.")
    membership.refresh_from_db()
    assert (membership.role, membership.territory_id) == ("director", west.pk)
    assert (
        page.locator("tr[data-user='ada@example.com'] select[name=role]").input_value()
        == "director"
    )

    own = page.locator(f"tr[data-user='{admin.username}']")
    own.locator("select[name=role]").select_option("viewer")
    own.locator("button", has_text="Save").click()
    page.wait_for_selector(".messages >> text=last admin of this workspace")
    shot("users_role_changed")
