"""Re-evaluation of the book (DESIGN §7): territory by the active plan, sticky owners, the
territory's distribution with the book as load, capacities of source `accounts`, orphaned
and vacant flags, one current history entry per account, write-back only when enabled."""

from collections import Counter
from itertools import pairwise

import pytest
from django.db.models import Count

from allocation.models import Allocation
from book import services
from book.models import Account
from crm_sync.models import WritebackOutbox
from jobs import services as job_services
from jobs.models import JobChunk
from territories.services import territory_update
from tests.book.factories import AccountFactory
from tests.book.helpers import current_entries, moved_in_crm, reevaluate, us_territory
from tests.capacities.factories import CapacityFactory
from tests.factories import (
    AbsenceFactory,
    MemberFactory,
    TerritoryFactory,
    TerritorySlotFactory,
)

pytestmark = pytest.mark.django_db


def test_round_robin_spreads_new_accounts_and_records_one_entry_each(
    workspace, django_capture_on_commit_callbacks
):
    territory, reps = us_territory(workspace)
    accounts = [AccountFactory(workspace=workspace) for _ in range(7)]

    job = reevaluate(workspace, django_capture_on_commit_callbacks)

    assert job.status == "succeeded"
    assert job.progress_done == job.progress_total == 7
    assert job.result["entries"] == 7
    owners = Counter(Account.objects.filter(workspace=workspace).values_list("owner_id", flat=True))
    assert sorted(owners.values()) == [2, 2, 3]
    assert set(owners) == {rep.pk for rep in reps}
    for account in accounts:
        account.refresh_from_db()
        assert account.territory == territory
        assert account.status == "assigned"
        assert account.assigned_at is not None
        [entry] = current_entries(workspace, account.crm_id)
        assert entry.owner_id == account.owner_id
        assert entry.territory_id == territory.pk
        assert entry.actor_label == f"job {job.pk}"
        assert entry.decision[-1]["step"] == "distribution"


def test_a_rerun_with_nothing_changed_changes_nothing(
    workspace, django_capture_on_commit_callbacks
):
    us_territory(workspace)
    for _ in range(5):
        AccountFactory(workspace=workspace)
    reevaluate(workspace, django_capture_on_commit_callbacks)
    before = list(Account.objects.values_list("id", "owner_id", "territory_id", "updated_at"))
    entries = Allocation.objects.count()

    again = reevaluate(workspace, django_capture_on_commit_callbacks)

    assert again.status == "succeeded"
    assert again.result["changed"] == 0
    assert again.result["entries"] == 0
    assert Allocation.objects.count() == entries
    assert (
        list(Account.objects.values_list("id", "owner_id", "territory_id", "updated_at")) == before
    )


def test_an_eligible_primary_keeps_the_account(workspace, django_capture_on_commit_callbacks):
    _, reps = us_territory(workspace)
    owned = [AccountFactory(workspace=workspace, owner=reps[2]) for _ in range(3)]

    reevaluate(workspace, django_capture_on_commit_callbacks)

    for account in owned:
        account.refresh_from_db()
        assert account.owner == reps[2]
        [entry] = current_entries(workspace, account.crm_id)
        assert entry.decision[-1] == {
            "step": "sticky",
            "member": reps[2].pk,
            "outcome": "kept",
            "detail": "current owner is an eligible primary of US",
        }


def test_an_owner_who_left_the_territory_or_is_inactive_is_replaced(
    workspace, django_capture_on_commit_callbacks
):
    _, reps = us_territory(workspace, reps=2)
    outsider = MemberFactory(workspace=workspace)
    inactive_rep = reps[1]
    first = AccountFactory(workspace=workspace, owner=outsider)
    second = AccountFactory(workspace=workspace, owner=inactive_rep)
    reevaluate(workspace, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    assert first.owner == reps[0] or first.owner == reps[1]

    inactive_rep.is_active = False
    inactive_rep.save()
    reevaluate(workspace, django_capture_on_commit_callbacks)

    second.refresh_from_db()
    assert second.owner == reps[0]
    history = Allocation.objects.filter(record_id=second.crm_id).order_by("id")
    assert [e.is_current for e in history] == [False, True]
    assert history.last().owner == reps[0]


def test_a_backup_keeps_the_account_only_while_no_primary_is_eligible(
    workspace, django_capture_on_commit_callbacks
):
    territory, [primary] = us_territory(workspace, reps=1)
    backup = MemberFactory(workspace=workspace)
    TerritorySlotFactory(territory=territory, member=backup, role="backup")
    primary.is_active = False
    primary.save()
    account = AccountFactory(workspace=workspace, owner=backup)
    reevaluate(workspace, django_capture_on_commit_callbacks)
    account.refresh_from_db()
    assert account.owner == backup
    assert (
        "eligible backup" in current_entries(workspace, account.crm_id).get().decision[-1]["detail"]
    )

    primary.is_active = True
    primary.save()
    reevaluate(workspace, django_capture_on_commit_callbacks)

    account.refresh_from_db()
    assert account.owner == primary


def test_accounts_without_territory_are_orphaned_and_keep_their_owner(
    workspace, django_capture_on_commit_callbacks
):
    us_territory(workspace)
    rep = MemberFactory(workspace=workspace)
    orphan = AccountFactory(workspace=workspace, fields={"country": "FR"}, owner=rep)
    nobody = AccountFactory(workspace=workspace, fields={"country": "DE"})

    job = reevaluate(workspace, django_capture_on_commit_callbacks)

    orphan.refresh_from_db()
    nobody.refresh_from_db()
    assert (orphan.status, orphan.territory, orphan.owner) == ("orphaned", None, rep)
    assert (nobody.status, nobody.territory, nobody.owner) == ("orphaned", None, None)
    assert job.result["orphaned"] == 2
    assert current_entries(workspace, orphan.crm_id).get().status == "fallback"
    assert not current_entries(workspace, nobody.crm_id).exists()


def test_a_vacant_territory_flags_its_accounts_and_keeps_their_owner(
    workspace, django_capture_on_commit_callbacks
):
    territory, [rep] = us_territory(workspace, reps=1)
    account = AccountFactory(workspace=workspace, owner=rep)
    unowned = AccountFactory(workspace=workspace)
    rep.is_active = False
    rep.save()

    reevaluate(workspace, django_capture_on_commit_callbacks)

    account.refresh_from_db()
    unowned.refresh_from_db()
    assert (account.status, account.territory, account.owner) == ("vacant", territory, rep)
    assert (unowned.status, unowned.owner) == ("vacant", None)
    assert current_entries(workspace, account.crm_id).get().decision[-1]["step"] == "vacant"


def test_a_vacant_territory_falls_back_for_accounts_without_owner(
    workspace, django_capture_on_commit_callbacks
):
    fallback = MemberFactory(workspace=workspace)
    _, [rep] = us_territory(workspace, reps=1, fallback_member=fallback)
    rep.is_active = False
    rep.save()
    account = AccountFactory(workspace=workspace)

    reevaluate(workspace, django_capture_on_commit_callbacks)

    account.refresh_from_db()
    assert (account.status, account.owner) == ("vacant", fallback)
    assert current_entries(workspace, account.crm_id).get().status == "fallback"


def test_an_accounts_capacity_caps_a_reps_book(workspace, django_capture_on_commit_callbacks):
    _, [capped, free] = us_territory(workspace, reps=2)
    CapacityFactory(member=capped, workspace=workspace, source="accounts", limit=2)
    for _ in range(6):
        AccountFactory(workspace=workspace)

    reevaluate(workspace, django_capture_on_commit_callbacks)

    books = dict(
        Account.objects.values("owner_id").annotate(n=Count("id")).values_list("owner_id", "n")
    )
    assert books == {capped.pk: 2, free.pk: 4}


def test_least_loaded_counts_the_accounts_each_rep_owns(
    workspace, django_capture_on_commit_callbacks
):
    _, [busy, idle] = us_territory(workspace, reps=2, distribution="least_loaded")
    other_territory = TerritoryFactory(
        workspace=workspace, rule={"field": "country", "op": "eq", "value": "CA"}
    )
    TerritorySlotFactory(territory=other_territory, member=busy)
    for _ in range(3):
        AccountFactory(workspace=workspace, fields={"country": "CA"}, owner=busy)
    new = [AccountFactory(workspace=workspace) for _ in range(3)]

    reevaluate(workspace, django_capture_on_commit_callbacks)

    owners = [Account.objects.get(pk=a.pk).owner_id for a in new]
    assert owners.count(idle.pk) == 3


def test_owner_writeback_is_queued_only_when_the_workspace_enables_it(
    workspace, django_capture_on_commit_callbacks
):
    _, [rep] = us_territory(workspace, reps=1)
    rep.crm_provider, rep.crm_user_id = "salesforce", "005REP"
    rep.save()
    quiet = AccountFactory(workspace=workspace, crm_provider="salesforce", crm_id="001A")
    reevaluate(workspace, django_capture_on_commit_callbacks)
    assert Account.objects.get(pk=quiet.pk).owner == rep
    assert not WritebackOutbox.objects.exists()

    workspace.account_ownership_writeback = True
    workspace.save()
    loud = AccountFactory(workspace=workspace, crm_provider="salesforce", crm_id="001B")
    csv_only = AccountFactory(workspace=workspace, crm_id="001C")
    job = reevaluate(workspace, django_capture_on_commit_callbacks)

    [row] = WritebackOutbox.objects.all()
    assert (row.record_type, row.record_id, row.owner_crm_user_id) == ("account", "001B", "005REP")
    assert row.allocation == current_entries(workspace, loud.crm_id).get()
    assert job.result["writebacks"] == 1
    assert Account.objects.get(pk=csv_only.pk).owner == rep


def test_chunks_share_one_rotation(workspace, django_capture_on_commit_callbacks, settings):
    settings.BOOK_CHUNK_SIZE = 4
    _, reps = us_territory(workspace, reps=3)
    for _ in range(12):
        AccountFactory(workspace=workspace)

    job = reevaluate(workspace, django_capture_on_commit_callbacks)

    assert job.chunks.count() == 3
    owners = Counter(Account.objects.values_list("owner_id", flat=True))
    assert owners == {rep.pk: 4 for rep in reps}


def test_a_plan_change_queues_one_reevaluation(workspace, api, django_capture_on_commit_callbacks):
    from jobs.models import Job

    territory, _ = us_territory(workspace)
    AccountFactory(workspace=workspace)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(f"/api/v1/territories/{territory.pk}/", {"priority": 5}, format="json")
    assert response.status_code == 200, response.content
    [job] = Job.objects.filter(workspace=workspace)
    assert (job.kind, job.status, job.created_by) == ("reevaluate", "succeeded", "plan change")


def _statements_to_reevaluate(workspace, accounts) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from book import services
    from jobs.services import job_run_inline

    for _ in range(accounts):
        AccountFactory(workspace=workspace)
    job = services.book_reevaluate_start(workspace=workspace, actor_label="tests")
    with CaptureQueriesContext(connection) as queries:
        job_run_inline(job_id=job.pk)
    job.refresh_from_db()
    assert job.result["entries"] == accounts
    return len(queries)


def test_the_writes_are_set_based(workspace, other_workspace):
    """A chunk's statements do not grow with its accounts: 40 changed accounts take as many
    statements as 4 (COPY, UPDATE … FROM, INSERT … SELECT), never one per account."""
    us_territory(workspace)
    us_territory(other_workspace)
    assert _statements_to_reevaluate(other_workspace, 40) == _statements_to_reevaluate(workspace, 4)


def test_owning_a_book_does_not_use_up_a_reps_routing_capacity(
    api, workspace, django_capture_on_commit_callbacks
):
    """Daily routing limits are about inbound records; the book is capped by `accounts`."""
    _, (rep,) = us_territory(workspace, reps=1)
    CapacityFactory(member=rep, limit=1, period="day")
    AccountFactory.create_batch(3, workspace=workspace)
    reevaluate(workspace, django_capture_on_commit_callbacks)
    assert Account.objects.filter(owner=rep).count() == 3

    lead = {"record": {"type": "lead", "fields": {"country": "US"}}}
    first = api.post("/api/v1/allocations/", lead, format="json").json()
    assert first["owner"]["id"] == rep.pk  # three accounts today, and still room for a lead
    second = api.post("/api/v1/allocations/", lead, format="json").json()
    assert second["owner"] is None  # now the daily limit of 1 is reached
    capacity = api.get("/api/v1/capacities/", {"member": rep.pk}).json()["results"][0]
    assert capacity["used"] == 1


def test_only_accounts_that_may_change_go_through_the_matcher(
    workspace, django_capture_on_commit_callbacks
):
    """A rerun costs SQL, not Python: an account is resolved again when its fields change or
    the plan does, or when SQL cannot tell that its owner stays."""
    territory, _ = us_territory(workspace, reps=2)
    accounts = AccountFactory.create_batch(5, workspace=workspace)
    first = reevaluate(workspace, django_capture_on_commit_callbacks)
    assert (first.result["evaluated"], first.result["resolved"]) == (5, 5)

    rerun = reevaluate(workspace, django_capture_on_commit_callbacks)
    assert (rerun.result["evaluated"], rerun.result["resolved"]) == (5, 0)
    assert (rerun.progress_total, rerun.chunks.get().payload["ids"]) == (0, [])

    moved = accounts[0]
    moved_in_crm(moved, {"country": "FR"})
    after_edit = reevaluate(workspace, django_capture_on_commit_callbacks)
    assert (after_edit.result["resolved"], after_edit.result["changed"]) == (1, 1)
    # The job is planned over that one account, and still counts the whole book.
    assert [c.payload["ids"] for c in after_edit.chunks.all()] == [[moved.pk]]
    assert (after_edit.progress_total, after_edit.result["evaluated"]) == (1, 5)
    moved.refresh_from_db()
    assert (moved.territory, moved.status) == (None, "orphaned")

    territory_update(territory=territory, description="a new version of the plan")
    after_plan_edit = reevaluate(workspace, django_capture_on_commit_callbacks)
    assert (after_plan_edit.result["resolved"], after_plan_edit.result["changed"]) == (5, 0)


def test_time_off_does_not_cost_a_rep_their_book(workspace, django_capture_on_commit_callbacks):
    _, (away, other) = us_territory(workspace, reps=2)
    kept = AccountFactory(workspace=workspace, owner=away)
    reevaluate(workspace, django_capture_on_commit_callbacks)
    AbsenceFactory(member=away)
    new = AccountFactory(workspace=workspace)

    reevaluate(workspace, django_capture_on_commit_callbacks)

    kept.refresh_from_db()
    new.refresh_from_db()
    assert kept.owner == away  # sticky through the absence
    assert new.owner == other  # new accounts go to who is there


def test_chunks_are_queued_from_places_of_the_book_far_apart():
    """Neighbouring chunks of the (country, state)-ordered book share territories, so the
    ones queued one after another (run at once by the workers) come from distant places:
    the lanes in bit-reversed order, each pair a quarter of the book apart or more."""
    assert services._interleaved(list(range(8)), lanes=8) == [0, 4, 2, 6, 1, 5, 3, 7]

    order = services._interleaved(list(range(17)), lanes=8)

    assert sorted(order) == list(range(17))
    assert min(abs(a - b) for a, b in pairwise(order)) >= 3  # a stride of three runs


def test_a_few_changes_are_chunked_by_the_territories_they_pick_in(workspace, settings):
    """Accounts arriving in one region share its territories: planned in place order, every
    chunk would wait for the others' territory keys. A small job groups them by the tree of
    territories their pick may touch (the winner and its fallback territories), so the
    chunks queued one after another pick in different territories."""
    from jobs.models import Job

    settings.BOOK_CHUNK_SIZE = 5000
    by_industry = {
        industry: TerritoryFactory(
            workspace=workspace, rule={"field": "industry", "op": "eq", "value": industry}
        )
        for industry in ("Software", "Hardware", "Retail")
    }
    by_industry["Software"].fallback_territory = by_industry["Hardware"]
    by_industry["Software"].save()
    tree = {"Software": "hardware tree", "Hardware": "hardware tree", "Retail": "retail"}
    # Interleaved in place order: every account in the same country and state.
    Account.objects.bulk_create(
        AccountFactory.build(
            workspace=workspace,
            fields={"country": "US", "state": "CA", "industry": industry},
        )
        for _ in range(services.MIN_CHUNK_SIZE * 2 // 3)
        for industry in by_industry
    )
    industry_of = {
        account_id: fields["industry"]
        for account_id, fields in Account.objects.values_list("id", "fields")
    }

    chunks = services.reevaluate_plan(Job(workspace=workspace))

    queued = [tree[industry_of[i]] for chunk in chunks for i in chunk["ids"]]
    assert sorted(queued) == sorted(tree[industry] for industry in industry_of.values())
    assert sum(1 for a, b in pairwise(queued) if a != b) == 1  # two groups, one boundary


def test_few_changes_are_cut_into_chunks_every_worker_can_take(workspace, settings):
    """A handful of changed accounts are not one chunk of `BOOK_CHUNK_SIZE` for one worker:
    they are cut into chunks of at least `MIN_CHUNK_SIZE`, up to one per lane."""
    from jobs.models import Job

    settings.BOOK_CHUNK_SIZE = 5000
    us_territory(workspace)
    Account.objects.bulk_create(
        AccountFactory.build(workspace=workspace) for _ in range(2 * services.MIN_CHUNK_SIZE)
    )

    chunks = services.reevaluate_plan(Job(workspace=workspace))

    assert [chunk["size"] for chunk in chunks] == [services.MIN_CHUNK_SIZE] * 2
    assert sorted(i for chunk in chunks for i in chunk["ids"]) == sorted(
        Account.objects.values_list("id", flat=True)
    )
    assert (chunks[0]["kept"], chunks[0]["kept_orphaned"]) == (0, 0)


def test_an_account_changed_after_its_chunk_was_read_is_left_to_the_next_job(
    workspace, django_capture_on_commit_callbacks
):
    """A chunk decides on the rows it read outside its transaction and writes an account only
    if it is still that row: an import (or an allocation) in between wins, and the account
    keeps a stale key so that the next job decides it."""
    territory, reps = us_territory(workspace, reps=2)
    raced, other = AccountFactory.create_batch(2, workspace=workspace)
    job = services.book_reevaluate_start(workspace=workspace, actor_label="tests", dispatch=False)
    [chunk_id] = job_services.job_start(job_id=job.pk)
    payload = JobChunk.objects.get(pk=chunk_id).payload
    prepared = services.reevaluate_prepare(job, payload)
    moved_in_crm(raced, {"country": "FR"}, owner_id=reps[0].pk)  # meanwhile

    result, _ = services.reevaluate_apply(job, payload, prepared)

    assert (result["changed"], result["deferred"], result["entries"]) == (1, 1, 1)
    raced.refresh_from_db()
    assert (raced.territory, raced.owner_id, raced.fields) == (None, reps[0].pk, {"country": "FR"})
    assert not current_entries(workspace, raced.crm_id).exists()
    other.refresh_from_db()
    assert (other.territory, other.status) == (territory, "assigned")
    [entry] = current_entries(workspace, other.crm_id)
    assert entry.owner_id == other.owner_id

    rerun = reevaluate(workspace, django_capture_on_commit_callbacks)
    assert (rerun.result["resolved"], rerun.result["changed"]) == (1, 1)
    raced.refresh_from_db()
    assert (raced.territory, raced.status, raced.owner_id) == (None, "orphaned", reps[0].pk)
