"""The book's bulk writes check their foreign keys once per referenced row, and refuse what a
foreign key would refuse; a role that may not skip the row checks gets them as before."""

import psycopg
import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from allocation.book_entries import AccountEntry, account_entries_write
from allocation.models import Allocation
from members.models import Member
from revorg.integrity import referenced_keys_checked
from tests.factories import MemberFactory, WorkspaceFactory

LIMITED_ROLE = "revorg_tests_no_replica"


def _entry(owner_id, record_id="001A") -> AccountEntry:
    return AccountEntry(
        record_id=record_id,
        record_crm="salesforce",
        status="assigned",
        owner_id=owner_id,
        territory_id=None,
        fields={"country": "DE"},
        decision=[{"step": "distribution", "outcome": "chosen", "member": owner_id}],
        overlays=[],
    )


def _missing_member_id() -> int:
    return (Member.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000


def _replication_role() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('session_replication_role')")
        return cursor.fetchone()[0]


@pytest.fixture
def limited_role():
    """A role with the tables' privileges but not that of skipping row triggers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [LIMITED_ROLE])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE ROLE {LIMITED_ROLE} NOLOGIN")
        cursor.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {LIMITED_ROLE}")
        cursor.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {LIMITED_ROLE}")
    return LIMITED_ROLE


@pytest.mark.django_db
def test_a_bulk_history_write_naming_a_missing_member_is_refused_before_writing():
    workspace = WorkspaceFactory()
    rep = MemberFactory(workspace=workspace)

    with pytest.raises(IntegrityError, match="members_member"), transaction.atomic():
        account_entries_write(
            workspace_id=workspace.pk,
            actor_label="job 1",
            entries=[_entry(rep.pk, "001A"), _entry(_missing_member_id(), "001B")],
            now=timezone.now(),
        )

    assert not Allocation.objects.filter(workspace=workspace).exists()
    assert _replication_role() == "origin"


@pytest.mark.django_db
def test_the_row_triggers_are_off_only_inside_the_block():
    workspace = WorkspaceFactory()
    rep = MemberFactory(workspace=workspace)

    with transaction.atomic(), connection.cursor() as cursor:
        with referenced_keys_checked(cursor, {Member: [rep.pk, None]}):
            assert _replication_role() == "replica"
        assert _replication_role() == "origin"


@pytest.mark.django_db
def test_without_the_privilege_the_constraints_own_triggers_refuse_the_row(limited_role):
    workspace = WorkspaceFactory()

    with (
        pytest.raises(IntegrityError, match="owner_id"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"SET LOCAL ROLE {limited_role}")
        account_entries_write(
            workspace_id=workspace.pk,
            actor_label="job 1",
            entries=[_entry(_missing_member_id())],
            now=timezone.now(),
        )
        assert _replication_role() == "origin"  # never switched: the rows are queued
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.django_db(transaction=True)
def test_a_referenced_member_cannot_be_deleted_until_the_write_commits():
    workspace = WorkspaceFactory()
    rep = MemberFactory(workspace=workspace)
    db = settings.DATABASES["default"]
    other = psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True
    )
    try:
        with transaction.atomic():
            account_entries_write(
                workspace_id=workspace.pk,
                actor_label="job 1",
                entries=[_entry(rep.pk)],
                now=timezone.now(),
            )
            other.execute("SET lock_timeout = '200ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("DELETE FROM members_member WHERE id = %s", [rep.pk])
    finally:
        other.close()

    entry = Allocation.objects.get(workspace=workspace)
    assert entry.owner_id == rep.pk and Member.objects.filter(pk=rep.pk).exists()
