from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.response import Response

from revorg.api import WorkspaceScopedGenericViewSet, workspace_of
from revorg.services import actor_from_request
from territories.models import TerritoryPlan

from .. import services
from ..models import Activation, ActivationStatus, TransitionMove
from .serializers import (
    ActivateRequestSerializer,
    ActivationSerializer,
    PlanActivationSerializer,
    TransitionMoveSerializer,
)

ADMIN_WRITE = ("write", "admin")
MANAGER_WRITE = ("write", "manager")


class PlanActivationViewSet(WorkspaceScopedGenericViewSet):
    """`/territory-plans/{id}/activate/` and `/territory-plans/{id}/schedule/`."""

    queryset = TerritoryPlan.objects.all()
    serializer_class = PlanActivationSerializer
    access_rules = {"activate": ADMIN_WRITE, "unschedule": ADMIN_WRITE}

    @extend_schema(
        request=ActivateRequestSerializer,
        responses={200: PlanActivationSerializer, 202: PlanActivationSerializer},
        description="Activates the plan now (200; the activation's job re-evaluates the book "
        "and applies the transition) or, with a future `effective_at`, schedules it (202; "
        "read-only until then, `DELETE …/schedule/` undoes it).",
    )
    def activate(self, request, pk=None):
        plan = self.get_object()
        serializer = ActivateRequestSerializer(
            data=request.data, context={"workspace": workspace_of(request)}
        )
        serializer.is_valid(raise_exception=True)
        activation = services.activation_request(
            plan=plan,
            effective_at=serializer.validated_data.get("effective_at"),
            transition=serializer.validated_data.get("transition"),
            actor=actor_from_request(request),
        )
        plan = activation.plan
        plan.refresh_from_db()
        plan.activation = activation
        scheduled = activation.status == ActivationStatus.SCHEDULED
        return Response(
            PlanActivationSerializer(plan).data,
            status=status.HTTP_202_ACCEPTED if scheduled else status.HTTP_200_OK,
        )

    @extend_schema(request=None, responses=PlanActivationSerializer)
    def unschedule(self, request, pk=None):
        """Back to an editable draft (409 when the plan is not scheduled)."""
        with transaction.atomic():
            plan = services.activation_unschedule(
                plan=self.get_object(), actor=actor_from_request(request)
            )
        plan.activation = plan.activations.order_by("-requested_at", "-id").first()
        return Response(PlanActivationSerializer(plan).data)


class _ReadOnly(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceScopedGenericViewSet):
    @extend_schema(exclude=True)  # answers 405: no operation a client can use
    def _read_only(self, request, *args, **kwargs):
        self.get_object()  # another workspace's row is a 404 first
        raise MethodNotAllowed(request.method, detail="Read-only; see the actions.")

    update = partial_update = destroy = _read_only


class ActivationViewSet(_ReadOnly):
    """Every activation of the workspace's plans: who, when, effective date, what it moved."""

    queryset = Activation.objects.select_related("plan", "previous_plan", "job")
    serializer_class = ActivationSerializer
    filterset_fields = ["plan", "status"]


class TransitionMoveViewSet(_ReadOnly):
    """Open deals a `manual` transition queued: apply (the deal moves) or dismiss (it stays)."""

    queryset = TransitionMove.objects.select_related("opportunity", "from_member", "to_member")
    serializer_class = TransitionMoveSerializer
    filterset_fields = ["status", "activation"]
    access_rules = {"apply": MANAGER_WRITE, "dismiss": MANAGER_WRITE}

    @extend_schema(request=None, responses=TransitionMoveSerializer)
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        move = services.transition_move_apply(
            move=self.get_object(), actor=actor_from_request(request)
        )
        return Response(TransitionMoveSerializer(move).data)

    @extend_schema(request=None, responses=TransitionMoveSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        move = services.transition_move_dismiss(
            move=self.get_object(), actor=actor_from_request(request)
        )
        return Response(TransitionMoveSerializer(move).data)
