from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed, PermissionDenied
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from members.models import Member
from members.selectors import member_get
from revorg.api import WorkspaceScopedGenericViewSet, workspace_of
from revorg.csv_api import export_schema
from revorg.csv_io import csv_response
from revorg.errors import ApplicationError
from revorg.models import Role
from revorg.permissions import request_may
from revorg.services import actor_from_request

from .. import csv_io
from ..filtersets import AllocationFilterSet
from ..models import Allocation
from ..rendering import overlay_names
from ..selectors import allocation_current_id, allocation_state_annotate
from ..services import allocation_create, allocation_reassign, reassign_problem, request_hash
from .serializers import (
    AllocateSerializer,
    AllocationSerializer,
    ReassignCheckResultSerializer,
    ReassignCheckSerializer,
    ReassignSerializer,
    allocate_request_validate,
    allocation_render,
)


class HistoryPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema_view(
    list=extend_schema(
        description="Allocation history, newest first, in cursor pages.",
        responses=AllocationSerializer(many=True),
    ),
    retrieve=extend_schema(
        description="One allocation with its decision trace and write-back status.",
        responses=AllocationSerializer,
    ),
    create=extend_schema(
        description="Allocate a record: the owner, the territory and the whole decision.",
        request=AllocateSerializer,
        responses={
            201: AllocationSerializer,
            200: AllocationSerializer,  # an idempotent replay or a dry run
        },
    ),
    reassign=extend_schema(
        description="Give the record a new owner; the answer is the new, current entry.",
        request=ReassignSerializer,
        responses={201: AllocationSerializer},
    ),
    # History is immutable: these answer 405 (404 for another workspace's row) and are no
    # operations a client can use, so the schema does not list them.
    update=extend_schema(exclude=True),
    partial_update=extend_schema(exclude=True),
    destroy=extend_schema(exclude=True),
)
class AllocationViewSet(mixins.ListModelMixin, WorkspaceScopedGenericViewSet):
    """Allocate (POST), history (GET, cursor-paginated), detail with trace, reassign."""

    # Each row's state and successor come in the same statement (no query per row).
    queryset = allocation_state_annotate(
        Allocation.objects.select_related("owner", "territory", "writeback", "sla")
    )
    filterset_class = AllocationFilterSet
    lookup_value_regex = "[0-9]+"
    pagination_class = HistoryPagination
    access_rules = {
        "create": ("allocate", "manager"),
        "reassign": ("allocate", "manager"),
        "reassign_check": ("allocate", "manager"),
    }
    # Who may reassign to an inactive, absent or full member (API.md).
    override_rule = ("write", Role.MANAGER)

    def get_serializer_class(self):
        return AllocateSerializer

    def _overlay_names(self, allocations) -> dict:
        return overlay_names(workspace=workspace_of(self.request), allocations=allocations)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        names = self._overlay_names(page)
        data = [allocation_render(a, members_by_id=names) for a in page]
        return self.get_paginated_response(data)

    def retrieve(self, request, pk=None):
        allocation = get_object_or_404(self.get_queryset(), pk=pk)
        names = self._overlay_names([allocation])
        return Response(allocation_render(allocation, members_by_id=names))

    def create(self, request):
        if not isinstance(request.data, dict):
            raise ApplicationError("The body must be a JSON object.")
        data = allocate_request_validate(request.data)
        header_key = request.headers.get("Idempotency-Key", "")
        key = data.get("idempotency_key") or header_key
        if len(key) > 255:
            raise ApplicationError("At most 255 characters.", field="idempotency_key")
        workspace = workspace_of(request)
        result = allocation_create(
            workspace=workspace,
            actor=actor_from_request(request),
            record=data["record"],
            play_run=data["play_run"],
            idempotency_key=key,
            dry_run=data["dry_run"],
            payload_hash=request_hash(request.data) if key else "",  # only idempotency reads it
        )
        return Response(
            result.body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )

    def _immutable(self, request, pk=None, **kwargs):
        """History rows never change; another workspace's row is still a 404 first."""
        get_object_or_404(self.get_queryset(), pk=pk)
        raise MethodNotAllowed(request.method, detail="Allocations are immutable history.")

    update = partial_update = destroy = _immutable

    def _new_owner(self, member_id) -> Member:
        owner = member_get(workspace=workspace_of(self.request), member_id=member_id)
        if owner is None:
            raise ApplicationError("No such member in this workspace.", field="member")
        return owner

    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        allocation = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = ReassignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        owner = self._new_owner(serializer.validated_data["member"])
        override = serializer.validated_data["override"]
        if override and not request_may(request, *self.override_rule):
            raise PermissionDenied(
                "Overriding needs an API key with the 'write' scope or the manager role."
            )
        new = allocation_reassign(
            workspace=workspace_of(request),
            actor=actor_from_request(request),
            allocation=allocation,
            owner=owner,
            reason=serializer.validated_data["reason"],
            override=override,
        )
        new = self.get_queryset().get(pk=new.pk)
        return Response(allocation_render(new), status=status.HTTP_201_CREATED)

    @export_schema(
        description="The history as CSV, newest first, with the history's filters; streamed "
        "(any size, constant memory)."
    )
    @action(detail=False, methods=["get"], url_path="export")
    def export_csv(self, request):
        history = self.filter_queryset(self.get_queryset())
        return csv_response(
            filename="allocations.csv",
            header=csv_io.EXPORT_COLUMNS,
            rows=csv_io.allocation_export_rows(queryset=history),
        )

    @extend_schema(
        parameters=[OpenApiParameter("member", int, required=True)],
        responses=ReassignCheckResultSerializer,
    )
    @action(detail=True, methods=["get"], url_path="reassign-check")
    def reassign_check(self, request, pk=None):
        """Dry check before a reassignment: may the member take the record now, and may this
        caller override if not. Nothing is written or locked."""
        allocation = get_object_or_404(self.get_queryset(), pk=pk)
        query = ReassignCheckSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        owner = self._new_owner(query.validated_data["member"])
        problem = reassign_problem(
            workspace=workspace_of(request), allocation=allocation, member_id=owner.pk
        )
        return Response(
            {
                "member": owner.pk,
                "available": problem is None,
                "problem": problem,
                "may_override": request_may(request, *self.override_rule),
                "current": allocation_current_id(allocation=allocation),
            }
        )
