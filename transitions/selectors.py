"""Reads of activations: the record of which plan was in force when."""

from django.db.models import QuerySet

from .models import Activation, ActivationStatus, MemberImpact, MoveStatus, TransitionMove


def activation_list(*, workspace) -> QuerySet[Activation]:
    return Activation.objects.filter(workspace=workspace).select_related(
        "plan", "previous_plan", "job"
    )


def plan_in_force_at(*, workspace, at):
    """The plan that was active at `at` (for year-over-year comparisons after mid-year
    changes): the latest activation effective at or before it; None before the first."""
    activation = (
        Activation.objects.filter(
            workspace=workspace, status=ActivationStatus.ACTIVATED, effective_at__lte=at
        )
        .select_related("plan")
        .order_by("-effective_at", "-id")
        .first()
    )
    return activation.plan if activation else None


def impacts_of(*, activation) -> QuerySet[MemberImpact]:
    return MemberImpact.objects.filter(activation=activation).select_related("member__manager")


def move_queue(*, workspace, status: str = MoveStatus.PENDING) -> QuerySet[TransitionMove]:
    return TransitionMove.objects.filter(workspace=workspace, status=status).select_related(
        "opportunity", "account", "from_member", "to_member", "activation__plan"
    )
