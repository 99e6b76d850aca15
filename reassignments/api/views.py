from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.response import Response

from revorg.api import WorkspaceScopedGenericViewSet, workspace_of
from revorg.scope import rows_in_scope
from revorg.services import actor_from_request

from .. import selectors, services
from ..models import Decision, ReassignmentRequest
from .serializers import (
    DecisionSerializer,
    ReassignmentRequestCreateSerializer,
    ReassignmentRequestSerializer,
)


def _membership(request):
    return getattr(request, "membership", None) if request.auth is None else None


@extend_schema_view(
    create=extend_schema(
        request=ReassignmentRequestCreateSerializer,
        responses={201: ReassignmentRequestSerializer},
        description="Request an owner change: named accounts and/or allocations, or all "
        "accounts of `from_member` in `territory`; the impact is computed now.",
    ),
    approve=extend_schema(request=DecisionSerializer, responses=ReassignmentRequestSerializer),
    reject=extend_schema(request=DecisionSerializer, responses=ReassignmentRequestSerializer),
    cancel=extend_schema(request=None, responses=ReassignmentRequestSerializer),
    queue=extend_schema(
        responses=ReassignmentRequestSerializer(many=True),
        description="Pending requests the caller may decide (the approval queue).",
    ),
    # Requests change only through their verbs: these answer 405 (404 for another
    # workspace's request) and are no operations, so the schema leaves them out.
    update=extend_schema(exclude=True),
    partial_update=extend_schema(exclude=True),
    destroy=extend_schema(exclude=True),
)
class ReassignmentRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceScopedGenericViewSet
):
    """Requests are created, decided and cancelled through their verbs, never edited."""

    queryset = ReassignmentRequest.objects.select_related(
        "to_member", "from_member", "territory"
    ).prefetch_related("items", "approvals")
    serializer_class = ReassignmentRequestSerializer
    filterset_fields = ["status", "to_member"]
    access_rules = {
        "create": ("allocate", "rep"),
        "approve": ("allocate", "manager"),
        "reject": ("allocate", "manager"),
        "cancel": ("allocate", "rep"),
    }

    def create(self, request):
        serializer = ReassignmentRequestCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        created = services.reassignment_request_create(
            workspace=workspace_of(request),
            actor=actor_from_request(request),
            membership=_membership(request),
            to_member=data["to_member"],
            reason=data["reason"],
            effective_at=data["effective_at"] or timezone.now(),
            open_deals=data["open_deals"],
            account_ids=data["accounts"],
            allocation_ids=data["allocations"],
            from_member=data["from_member"],
            territory=data["territory"],
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=created.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def _unchangeable(self, request, pk=None, **kwargs):
        get_object_or_404(self.get_queryset(), pk=pk)
        raise MethodNotAllowed(
            request.method, detail="Requests change through approve, reject and cancel."
        )

    update = partial_update = destroy = _unchangeable

    def _decide(self, request, pk, decision):
        target = get_object_or_404(self.get_queryset(), pk=pk)
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.reassignment_request_decide(
            workspace=workspace_of(request),
            actor=actor_from_request(request),
            membership=_membership(request),
            request=target,
            decision=decision,
            comment=body.validated_data["comment"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, pk, Decision.APPROVE)

    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, pk, Decision.REJECT)

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        target = get_object_or_404(self.get_queryset(), pk=pk)
        services.reassignment_request_cancel(
            workspace=workspace_of(request),
            actor=actor_from_request(request),
            membership=_membership(request),
            request=target,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    @action(detail=False, methods=["get"])
    def queue(self, request):
        rows = rows_in_scope(
            selectors.approval_queue(
                workspace=workspace_of(request), membership=_membership(request)
            ),
            scope=self.row_scope,
        ).prefetch_related("items", "approvals")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
