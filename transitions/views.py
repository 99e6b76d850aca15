"""Browser pages: the activation form on the plan page (an inclusion tag, see
templatetags/transitions.py), unscheduling, and the queue of deal moves a `manual`
transition left for managers. The form is validated by the API's serializer (one path)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from revorg.errors import ApplicationError
from revorg.permissions import role_required
from revorg.services import actor_from_request
from revorg.tenancy import workspace_object_or_404, workspace_rows
from territories.models import TerritoryPlan

from . import selectors, services
from .api.serializers import ActivateRequestSerializer
from .models import ActivationStatus, TransitionMove

MOVES_SHOWN = 200


def _back_to(plan) -> str:
    return f"/territories/?plan={plan.pk}"


def _flatten(errors, prefix="") -> list[str]:
    """DRF's nested errors as 'transition.stage_threshold.stage: message' lines."""
    if isinstance(errors, dict):
        return [
            line
            for key, value in errors.items()
            for line in _flatten(value, f"{prefix}{key}." if key != "non_field_errors" else prefix)
        ]
    if isinstance(errors, list):
        return [line for value in errors for line in _flatten(value, prefix)]
    return [f"{prefix.rstrip('.')}: {errors}" if prefix else str(errors)]


def _form_body(post) -> dict:
    """The form's fields as the API's request body."""
    transition = {
        "open_deals": post.get("open_deals", "follow_rep"),
        "overlap_days": post.get("overlap_days") or 0,
        "notify": post.get("notify") == "on",
    }
    if transition["open_deals"] == "stage_based":
        kind, value = post.get("threshold_kind", "probability"), post.get("threshold_value", "")
        transition["stage_threshold"] = {kind: value}  # an unknown kind: a 400 naming it
    body = {"transition": transition}
    raw = post.get("effective_at", "").strip()
    if raw:
        moment = parse_datetime(raw)
        if moment is not None and timezone.is_naive(moment):
            moment = timezone.make_aware(moment)  # the viewer's zone (middleware)
        body["effective_at"] = moment.isoformat() if moment else raw
    return body


@role_required("admin")
@require_POST
def plan_activate(request, pk):
    plan = workspace_object_or_404(request, TerritoryPlan, pk=pk)
    if request.POST.get("confirm") != plan.name:
        messages.error(request, "Type the plan's name to confirm activation.")
        return redirect(_back_to(plan))
    serializer = ActivateRequestSerializer(
        data=_form_body(request.POST), context={"workspace": request.workspace}
    )
    if not serializer.is_valid():
        for line in _flatten(serializer.errors):
            messages.error(request, line)
        return redirect(_back_to(plan))
    try:
        activation = services.activation_request(
            plan=plan,
            effective_at=serializer.validated_data.get("effective_at"),
            transition=serializer.validated_data.get("transition"),
            actor=actor_from_request(request),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(_back_to(plan))
    if activation.status == ActivationStatus.SCHEDULED:
        messages.success(
            request,
            f"{plan.name} is scheduled to activate at "
            f"{timezone.localtime(activation.effective_at):%Y-%m-%d %H:%M %Z}; it is read-only "
            "until then.",
        )
    else:
        messages.success(
            request, f"{plan.name} is now the active plan; the book is being re-evaluated."
        )
    return redirect(_back_to(plan))


@role_required("admin")
@require_POST
def plan_unschedule(request, pk):
    plan = workspace_object_or_404(request, TerritoryPlan, pk=pk)
    try:
        services.activation_unschedule(plan=plan, actor=actor_from_request(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{plan.name} is a draft again.")
    return redirect(_back_to(plan))


@role_required("manager")
def move_queue(request):
    moves = workspace_rows(request, selectors.move_queue(workspace=request.workspace))[:MOVES_SHOWN]
    return render(request, "transitions/moves.html", {"moves": moves})


def _decide(request, pk, decide, done: str):
    move = workspace_object_or_404(request, TransitionMove, pk=pk)
    try:
        decide(move=move, actor=actor_from_request(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("ui:transition-moves")


@role_required("manager")
@require_POST
def move_apply(request, pk):
    return _decide(request, pk, services.transition_move_apply, "Deal moved to its new owner.")


@role_required("manager")
@require_POST
def move_dismiss(request, pk):
    return _decide(request, pk, services.transition_move_dismiss, "Move dismissed: the deal stays.")
