"""Plan activation with a transition (DESIGN §8): the writes.

`activation_request` is the one entry for the API and the UI. A future `effective_at`
schedules the plan (territories' `plan_schedule`: read-only until then); otherwise, and when
`activations_due_run` finds a scheduled one due, `_activate` switches the plans (territories'
`plan_activate`, the one home of the switch: archive the old plan, activate the new one,
409 for a concurrent activation) and, in the same transaction, queues the activation job.

The job re-evaluates the book in chunks with the book's own re-evaluation, and in each
chunk's transaction applies the transition to the accounts whose owner the re-evaluation
changed: their open deals follow the policy, the old owner becomes an overlay for the overlap,
and what every member gained and lost is counted for the digests sent when the job ends.
"""

import json
import logging
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Min
from django.utils import timezone

from allocation.book_entries import AccountEntry, account_entries_write
from allocation.models import RecordType
from book import services as book_services
from book.models import Opportunity
from jobs import services as job_services
from jobs.models import Job, JobKind
from members.models import Member
from notifications.events import publish
from revorg.errors import ApplicationError, ConflictError
from revorg.rawsql import pg_array
from revorg.services import SYSTEM, Actor, audit_record
from territories import services as territory_services
from territories.models import TerritoryPlan
from territories.selectors import plan_get_active

from .models import (
    Activation,
    ActivationStatus,
    MemberImpact,
    MoveStatus,
    OpenDealPolicy,
    TransitionMove,
)

logger = logging.getLogger(__name__)

ACTIVATE = "transitions.activate"
# Account names per direction a digest lists (the counts are complete).
MAX_EXAMPLES = 10


# --- requesting, scheduling, unscheduling -------------------------------------------------


@transaction.atomic
def activation_request(
    *, plan: TerritoryPlan, effective_at=None, transition: dict | None = None, actor: Actor
) -> Activation:
    """Activates `plan` now (the returned activation carries its job) or, with a future
    `effective_at`, schedules it (the job is created when the time comes). `transition` is
    validated by the caller (transitions.api.serializers)."""
    transition = transition or {}
    activation = Activation(
        workspace_id=plan.workspace_id,
        plan=plan,
        open_deals=transition.get("open_deals", OpenDealPolicy.FOLLOW_REP),
        stage_threshold=transition.get("stage_threshold"),
        overlap_days=transition.get("overlap_days", 0),
        notify=transition.get("notify", True),
        requested_by=actor.label[:200],
    )
    if effective_at is not None and effective_at > timezone.now():
        territory_services.plan_schedule(plan=plan, effective_at=effective_at, actor=actor)
        activation.status = ActivationStatus.SCHEDULED
        activation.effective_at = effective_at
        try:
            with transaction.atomic():
                activation.save()
        except IntegrityError:
            raise ConflictError("another plan was scheduled at the same time") from None
        return activation
    return _activate(activation=activation, effective_at=effective_at, actor=actor, scheduled=False)


def _activate(*, activation: Activation, effective_at, actor: Actor, scheduled: bool) -> Activation:
    """Switches the plans and queues the job, in the caller's transaction."""
    workspace = activation.plan.workspace
    previous = plan_get_active(workspace=workspace)
    plan = territory_services.plan_activate(
        plan=activation.plan,
        effective_at=effective_at,
        actor=actor,
        scheduled=scheduled,
        reevaluation_queued=True,
    )
    activation.plan = plan
    activation.previous_plan = previous if previous and previous.pk != plan.pk else None
    activation.status = ActivationStatus.ACTIVATED
    activation.effective_at = plan.effective_at
    activation.activated_at = plan.activated_at
    activation.activated_by = actor.label[:200]
    activation.stage_probability = _stage_probability(
        workspace_id=plan.workspace_id, threshold=activation.stage_threshold
    )
    activation.save()
    activation.job = job_services.job_create(
        workspace=workspace,
        kind=JobKind.ACTIVATE,
        handler=ACTIVATE,
        actor_label=actor.label,
        params={"activation": activation.pk, "plan": plan.pk},
    )
    activation.save(update_fields=["job"])
    return activation


def _stage_probability(*, workspace_id, threshold) -> int | None:
    """A stage threshold as a probability: the lowest probability a deal at that stage has
    in the book now (deals at that stage stay whatever their probability)."""
    if not threshold or "stage" not in threshold:
        return None
    return Opportunity.objects.filter(
        workspace_id=workspace_id, stage__iexact=threshold["stage"], probability__isnull=False
    ).aggregate(p=Min("probability"))["p"]


@transaction.atomic
def activation_unschedule(*, plan: TerritoryPlan, actor: Actor) -> TerritoryPlan:
    """The scheduled plan back to an editable draft; its activation record says so. The
    activation row is locked before the workspace (as the due runner does): no deadlock."""
    scheduled = (
        Activation.objects.select_for_update()
        .filter(plan=plan, status=ActivationStatus.SCHEDULED)
        .first()
    )
    plan = territory_services.plan_unschedule(plan=plan, actor=actor)
    if scheduled is not None:
        scheduled.status = ActivationStatus.UNSCHEDULED
        scheduled.save(update_fields=["status"])
    return plan


def activations_due_run(*, now=None) -> list[int]:
    """Periodic (beat): activates every scheduled plan whose `effective_at` has come, each in
    its own transaction. `now` is the clock (tests pass their own). Safe to run twice at once:
    the activation row is locked and re-checked."""
    now = now or timezone.now()
    due = list(
        Activation.objects.filter(
            status=ActivationStatus.SCHEDULED, effective_at__lte=now
        ).values_list("pk", flat=True)
    )
    activated = []
    for activation_id in due:
        try:
            with transaction.atomic():
                activation = (
                    Activation.objects.select_for_update()
                    .select_related("plan__workspace")
                    .filter(pk=activation_id, status=ActivationStatus.SCHEDULED)
                    .first()
                )
                if activation is None:
                    continue
                _activate(activation=activation, effective_at=None, actor=SYSTEM, scheduled=True)
                activated.append(activation_id)
        except ApplicationError as exc:
            logger.warning("scheduled activation %s not run: %s", activation_id, exc.message)
    return activated


# --- the job ----------------------------------------------------------------------------------


def activation_plan(job) -> list[dict]:
    """The book's re-evaluation chunks."""
    return book_services.reevaluate_plan(job)


def activation_prepare(job, payload):
    return book_services.reevaluate_prepare(job, payload)


def activation_apply(job, payload, prepared) -> tuple[dict, list]:
    """In the chunk's transaction: the re-evaluation's writes, then the transition for the
    accounts whose owner they changed (as the re-evaluation decided them, under its locks)."""
    activation = Activation.objects.select_related("plan").get(pk=job.params["activation"])
    moved: dict = {}
    counts, errors = book_services.reevaluate_apply(job, payload, prepared, moved=moved)
    return {**counts, **_transition_apply(job=job, activation=activation, moved=moved)}, errors


def _deal_stays(activation: Activation, stage: str, probability) -> bool:
    """Whether an open deal of a moved account stays with its old owner under the policy."""
    policy = activation.open_deals
    if policy == OpenDealPolicy.FOLLOW_REP:
        return True
    if policy != OpenDealPolicy.STAGE_BASED:
        return False
    threshold = activation.stage_threshold or {}
    if "probability" in threshold:
        return probability is not None and probability >= threshold["probability"]
    if stage.strip().lower() == str(threshold.get("stage", "")).strip().lower():
        return True
    bar = activation.stage_probability
    return bar is not None and probability is not None and probability >= bar


def _transition_apply(*, job, activation: Activation, moved: dict) -> dict:
    counts = {
        "accounts_moved": 0,
        "accounts_assigned": 0,
        "deals_moved": 0,
        "deals_kept": 0,
        "deals_queued": 0,
        "overlays_added": 0,
        "deal_writebacks": 0,
    }
    if not moved:
        return counts
    workspace = job.workspace
    impacts: dict[int, dict] = {}

    def impact(member_id) -> dict:
        return impacts.setdefault(
            member_id,
            {
                "accounts_in": 0,
                "accounts_out": 0,
                "deals_in": 0,
                "deals_out": 0,
                "deals_kept": 0,
                "deals_queued": 0,
                "examples_in": [],
                "examples_out": [],
            },
        )

    overlay_pairs = []
    for account_id, (old, new, _territory, name) in moved.items():
        if old is None:
            counts["accounts_assigned"] += 1
        else:
            counts["accounts_moved"] += 1
            out = impact(old)
            out["accounts_out"] += 1
            if len(out["examples_out"]) < MAX_EXAMPLES:
                out["examples_out"].append(name)
            if new is not None:
                overlay_pairs.append((account_id, old))
        if new is not None:
            into = impact(new)
            into["accounts_in"] += 1
            if len(into["examples_in"]) < MAX_EXAMPLES:
                into["examples_in"].append(name)

    deal_changes, entries, queued = [], [], []
    members = {
        m["id"]: m
        for m in Member.objects.filter(pk__in={n for _, n, _, _ in moved.values() if n}).values(
            "id", "crm_provider", "crm_user_id"
        )
    }
    for opp_id, account_id, owner_id, stage, probability, provider, crm_id, name, amount in (
        Opportunity.objects.select_for_update()
        .filter(workspace_id=workspace.pk, account_id__in=list(moved), is_closed=False)
        .order_by("id")
        .values_list(
            "id",
            "account_id",
            "owner_id",
            "stage",
            "probability",
            "crm_provider",
            "crm_id",
            "name",
            "amount",
        )
    ):
        old, new, territory_id, account_name = moved[account_id]
        if old is None or (owner_id is not None and owner_id != old):
            continue  # a deal of someone else (a partner rep, an overlay): not the transition's
        if new is None or _deal_stays(activation, stage, probability):
            counts["deals_kept"] += 1
            impact(old)["deals_kept"] += 1
            continue
        if activation.open_deals == OpenDealPolicy.MANUAL:
            counts["deals_queued"] += 1
            impact(old)["deals_queued"] += 1
            queued.append((opp_id, account_id, old, new))
            continue
        counts["deals_moved"] += 1
        impact(old)["deals_out"] += 1
        impact(new)["deals_in"] += 1
        deal_changes.append((opp_id, new))
        entries.append(
            _deal_entry(
                workspace=workspace,
                activation=activation,
                member=members.get(new),
                opportunity=(provider, crm_id, name, stage, amount, account_name),
                owner_id=new,
                territory_id=territory_id,
                detail=f"plan {activation.plan.name} activated: the open deal follows its "
                f"account ({activation.get_open_deals_display().lower()})",
            )
        )
    now = timezone.now()
    _opportunity_owners_write(deal_changes, now)
    written = account_entries_write(
        workspace_id=workspace.pk,
        actor_label=f"job {job.pk}",
        entries=entries,
        now=now,
        record_type=RecordType.OPPORTUNITY,
    )
    counts["deal_writebacks"] = written["writebacks"]
    TransitionMove.objects.bulk_create(
        [
            TransitionMove(
                workspace_id=workspace.pk,
                activation=activation,
                opportunity_id=opp_id,
                account_id=account_id,
                from_member_id=old,
                to_member_id=new,
            )
            for opp_id, account_id, old, new in queued
        ],
        ignore_conflicts=True,
    )
    if activation.overlap_days and overlay_pairs:
        counts["overlays_added"] = book_services.account_overlays_add(
            workspace_id=workspace.pk,
            pairs=overlay_pairs,
            until=activation.effective_at + timedelta(days=activation.overlap_days),
            reason=f"previous owner, transition to plan {activation.plan.name}",
        )
    _impacts_add(activation.pk, impacts)
    return counts


def _deal_entry(
    *, workspace, activation, member, opportunity, owner_id, territory_id, detail
) -> AccountEntry:
    provider, crm_id, name, stage, amount, account_name = opportunity
    writeback = ""
    if (
        workspace.account_ownership_writeback
        and member is not None
        and provider
        and member["crm_provider"] == provider
        and member["crm_user_id"]
    ):
        writeback = member["crm_user_id"]
    return AccountEntry(
        record_id=crm_id,
        record_crm=provider,
        status="assigned",
        owner_id=owner_id,
        territory_id=territory_id,
        fields={
            "name": name,
            "stage": stage,
            "amount": str(amount) if amount is not None else None,
            "account": account_name,
        },
        decision=[
            {
                "step": "transition",
                "outcome": "moved",
                "activation": activation.pk,
                "detail": detail,
            }
        ],
        overlays=[],
        writeback_owner_crm_user_id=writeback,
    )


def _opportunity_owners_write(changes, now) -> None:
    """The moved deals' new owners in one statement per thousand."""
    table = Opportunity._meta.db_table
    for start in range(0, len(changes), 1000):
        batch = changes[start : start + 1000]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"UPDATE {table} o SET owner_id = t.owner_id, updated_at = %s FROM "
                    "unnest(%s::bigint[], %s::bigint[]) AS t(id, owner_id) WHERE o.id = t.id",
                    [now, pg_array(c[0] for c in batch), pg_array(c[1] for c in batch)],
                )
            else:
                for opp_id, owner_id in batch:
                    Opportunity.objects.filter(pk=opp_id).update(owner_id=owner_id, updated_at=now)


_IMPACT_COUNTS = ("accounts_in", "accounts_out", "deals_in", "deals_out", "deals_kept")
_IMPACT_COUNTS += ("deals_queued",)


def _impacts_add(activation_id: int, impacts: dict) -> None:
    """Adds this chunk's per-member counts (chunks of one job run in parallel: an upsert
    that adds, in member order)."""
    if not impacts:
        return
    if connection.vendor != "postgresql":
        for member_id, values in sorted(impacts.items()):
            row, _ = MemberImpact.objects.get_or_create(
                activation_id=activation_id, member_id=member_id
            )
            for name in _IMPACT_COUNTS:
                setattr(row, name, getattr(row, name) + values[name])
            row.examples_in = (row.examples_in + values["examples_in"])[:MAX_EXAMPLES]
            row.examples_out = (row.examples_out + values["examples_out"])[:MAX_EXAMPLES]
            row.save()
        return
    table = MemberImpact._meta.db_table
    columns = ", ".join(_IMPACT_COUNTS)
    adds = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in _IMPACT_COUNTS)
    examples = ", ".join(
        f"{c} = CASE WHEN jsonb_array_length({table}.{c}) >= {MAX_EXAMPLES} THEN {table}.{c} "
        f"ELSE {table}.{c} || excluded.{c} END"
        for c in ("examples_in", "examples_out")
    )
    rows = []
    params: list = []
    for member_id, values in sorted(impacts.items()):
        rows.append("(%s, %s, " + ", ".join(["%s"] * len(_IMPACT_COUNTS)) + ", %s, %s)")
        params += [activation_id, member_id, *(values[c] for c in _IMPACT_COUNTS)]
        params += [json.dumps(values["examples_in"]), json.dumps(values["examples_out"])]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (activation_id, member_id, {columns}, examples_in, "
            f"examples_out) VALUES {', '.join(rows)} ON CONFLICT (activation_id, member_id) "
            f"DO UPDATE SET {adds}, {examples}",
            params,
        )


def activation_finished(job) -> None:
    """After the job succeeded: the counts on the activation record, the `plan.activated`
    event, and one digest per affected member and manager (once)."""
    from .digests import digests_send

    with transaction.atomic():
        activation = (
            Activation.objects.select_for_update(of=("self",))
            .select_related("plan", "previous_plan", "workspace")
            .filter(job_id=job.pk)
            .first()
        )
        if activation is None or activation.digests_sent is not None:
            return
        job = Job.objects.get(pk=job.pk)
        activation.counts = dict(job.result or {})
        affected = list(
            Member.objects.filter(
                pk__in=MemberImpact.objects.filter(activation=activation).values("member_id")
            )
        )
        publish(
            workspace=activation.workspace,
            event_type="plan.activated",
            data={
                "plan": {"id": activation.plan_id, "name": activation.plan.name},
                "previous_plan": (
                    {"id": activation.previous_plan_id, "name": activation.previous_plan.name}
                    if activation.previous_plan
                    else None
                ),
                "activation": activation.pk,
                "effective_at": activation.effective_at.isoformat(),
                "transition": activation.transition,
                "counts": activation.counts,
                "job": job.pk,
            },
            members=affected,
        )
        activation.digests_sent = 0
        activation.save(update_fields=["counts", "digests_sent"])
    if activation.notify:
        sent = digests_send(activation=activation)
        Activation.objects.filter(pk=activation.pk).update(digests_sent=sent)


# --- the manual queue ---------------------------------------------------------------------------


@transaction.atomic
def transition_move_apply(*, move: TransitionMove, actor: Actor) -> TransitionMove:
    """The deal goes to the account's new owner (history entry, write-back when the
    workspace writes ownership back). 409 when the move was decided already or the deal
    changed since it was queued (closed, or another owner)."""
    locked = (
        TransitionMove.objects.select_for_update()
        .select_related("activation__plan")
        .get(pk=move.pk)
    )
    if locked.status != MoveStatus.PENDING:
        raise ConflictError(f"this move was already {locked.status}")
    deal = (
        Opportunity.objects.select_for_update()
        .select_related("account")
        .filter(pk=locked.opportunity_id)
        .first()
    )
    if deal is None or deal.is_closed:
        raise ConflictError("the deal closed or left the book since the move was queued")
    if deal.owner_id != locked.from_member_id:
        raise ConflictError("the deal's owner changed since the move was queued")
    member = Member.objects.filter(pk=locked.to_member_id).first()
    if member is None or not member.is_active:
        raise ApplicationError("the new owner is no longer an active member", field="to_member")
    now = timezone.now()
    _opportunity_owners_write([(deal.pk, member.pk)], now)
    account_entries_write(
        workspace_id=locked.workspace_id,
        actor_label=actor.label,
        entries=[
            _deal_entry(
                workspace=deal.account.workspace,
                activation=locked.activation,
                member={"crm_provider": member.crm_provider, "crm_user_id": member.crm_user_id},
                opportunity=(
                    deal.crm_provider,
                    deal.crm_id,
                    deal.name,
                    deal.stage,
                    deal.amount,
                    deal.account.name,
                ),
                owner_id=member.pk,
                territory_id=deal.account.territory_id,
                detail=f"plan {locked.activation.plan.name} transition: move applied by "
                f"{actor.label}",
            )
        ],
        now=now,
        record_type=RecordType.OPPORTUNITY,
    )
    return _move_decide(locked, MoveStatus.APPLIED, actor, now)


@transaction.atomic
def transition_move_dismiss(*, move: TransitionMove, actor: Actor) -> TransitionMove:
    """The deal stays with its owner; 409 when the move was decided already."""
    locked = TransitionMove.objects.select_for_update().get(pk=move.pk)
    if locked.status != MoveStatus.PENDING:
        raise ConflictError(f"this move was already {locked.status}")
    return _move_decide(locked, MoveStatus.DISMISSED, actor, timezone.now())


def _move_decide(move: TransitionMove, status: str, actor: Actor, now) -> TransitionMove:
    move.status = status
    move.decided_by = actor.label[:200]
    move.decided_at = now
    move.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        workspace=move.workspace,
        actor=actor,
        action=status,
        obj=move,
        before={"status": MoveStatus.PENDING},
        after={"status": status, "opportunity": move.opportunity_id, "to": move.to_member_id},
    )
    return move


def overlays_expire(*, now=None) -> int:
    """Periodic: the overlap of past transitions ends (the old owners drop off)."""
    return book_services.account_overlays_expire(now=now)
