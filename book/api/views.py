from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs.api.serializers import JobSerializer
from revorg.api import WorkspaceScopedGenericViewSet, workspace_of
from revorg.errors import ApplicationError
from revorg.services import actor_from_request
from territories.models import TerritoryPlan

from .. import selectors, services
from ..csv_import import upload_read
from ..filtersets import AccountFilterSet, OpportunityFilterSet
from ..models import Account, Opportunity
from .serializers import (
    AccountDetailSerializer,
    AccountSerializer,
    CoverageSerializer,
    ImportSerializer,
    OpportunitySerializer,
)

IMPORT_RULE = ("write", "admin")


def _import(request, kind: str) -> Response:
    upload = request.FILES.get("file")
    if upload is None:
        raise ApplicationError("attach the CSV file as the multipart field 'file'", field="file")
    job = services.book_import_start(
        workspace=workspace_of(request),
        actor_label=actor_from_request(request).label,
        kind=kind,
        raw=upload_read(upload, max_bytes=settings.BOOK_IMPORT_MAX_BYTES),
    )
    return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class _BookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceScopedGenericViewSet):
    """Read-only; rows come only from imports, CRM syncs and re-evaluation."""

    lookup_value_regex = "[0-9]+"
    access_rules = {"import_csv": IMPORT_RULE}

    @extend_schema(exclude=True)  # answers 405: no operation a client can use
    def _read_only(self, request, *args, **kwargs):
        self.get_object()  # another workspace's row is a 404 first
        raise MethodNotAllowed(request.method, detail="The book is read-only except import.")

    update = partial_update = destroy = _read_only


class AccountViewSet(_BookViewSet):
    queryset = Account.objects.select_related("territory", "owner")
    serializer_class = AccountSerializer
    filterset_class = AccountFilterSet

    def get_serializer_class(self):
        return AccountDetailSerializer if self.action == "retrieve" else AccountSerializer

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        overlays = selectors.account_overlays(accounts=page)
        data = AccountSerializer(page, many=True, context={"overlays": overlays}).data
        return self.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs):
        account = self.get_object()
        context = {
            "overlays": selectors.account_overlays(accounts=[account]),
            "history": selectors.account_history(account=account)[:200],
        }
        return Response(AccountDetailSerializer(account, context=context).data)

    @extend_schema(
        request={"multipart/form-data": ImportSerializer}, responses={202: JobSerializer}
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_csv(self, request):
        """CSV of accounts (`crm_id` or `id`, `name`, `domain`, `owner_email`, any rule
        field) → 202 with the import job; bad rows are reported on the job."""
        return _import(request, "accounts")


class OpportunityViewSet(_BookViewSet):
    queryset = Opportunity.objects.all()
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilterSet

    @extend_schema(
        request={"multipart/form-data": ImportSerializer}, responses={202: JobSerializer}
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_csv(self, request):
        """CSV of opportunities → 202 with the import job."""
        return _import(request, "opportunities")


class CoverageView(APIView):
    """`GET /coverage/`: orphaned accounts, vacant territories, conflicts, owner mismatches
    and white space of the active plan."""

    @extend_schema(responses=CoverageSerializer)
    def get(self, request):
        return Response(selectors.coverage_get(workspace=workspace_of(request)))


class PlanReevaluateView(APIView):
    """`POST /territory-plans/{id}/reevaluate/`: 202 with the job (active plan only, 409)."""

    access_rules = {"POST": ("write", "admin")}

    @extend_schema(request=None, responses={202: JobSerializer})
    def post(self, request, pk: int):
        workspace = workspace_of(request)
        plan = get_object_or_404(TerritoryPlan, workspace=workspace, pk=pk)
        job = services.book_reevaluate_start(
            workspace=workspace, actor_label=actor_from_request(request).label, plan=plan
        )
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
