"""The API side of CSV imports and exports, shared by every viewset that offers them.

Imports are `multipart/form-data` with the file in the field `file` (the only request bodies
that are not JSON); `?dry_run=1` answers the preview without writing. Exports are streamed
`text/csv` attachments.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from .api import workspace_of
from .csv_io import csv_bool
from .errors import ApplicationError
from .services import actor_from_request

UPLOAD_PARSERS = [MultiPartParser]


class CsvUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The CSV file: UTF-8, a header row, one row a line.")


class ImportChangeSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    action = serializers.ChoiceField(choices=["create", "update"])
    key = serializers.CharField()
    detail = serializers.CharField(allow_blank=True)


class ImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="1 is the header row")
    column = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ImportResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(help_text="true: a preview, nothing was written")
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    rows = ImportChangeSerializer(many=True)
    errors = ImportErrorSerializer(many=True)


DRY_RUN = OpenApiParameter(
    "dry_run",
    OpenApiTypes.BOOL,
    description="1/true: check the file and answer what would change, writing nothing",
)


def import_schema(*, description: str, parameters=()):
    return extend_schema(
        description=description,
        request={"multipart/form-data": CsvUploadSerializer},
        responses={200: ImportResultSerializer},
        parameters=[DRY_RUN, *parameters],
    )


def export_schema(*, description: str, parameters=(), filters: bool = True):
    return extend_schema(
        description=description,
        request=None,
        responses={(200, "text/csv"): OpenApiTypes.STR},
        parameters=list(parameters),
        filters=filters,
    )


def dry_run_requested(request) -> bool:
    value = request.query_params.get("dry_run", "")
    if not value:
        return False
    flag = csv_bool(value)
    if flag is None:
        raise ApplicationError("must be 1/true or 0/false", field="dry_run")
    return flag


def uploaded_bytes(request) -> bytes:
    upload = request.FILES.get("file") if hasattr(request, "FILES") else None
    if upload is None:
        raise ApplicationError(
            "attach the CSV file as the multipart/form-data field 'file'", field="file"
        )
    return upload.read()


def csv_import_response(request, importer, **kwargs) -> Response:
    """Runs `importer` (an app's `<entity>_import` service) on the uploaded file."""
    dry_run = dry_run_requested(request)
    result = importer(
        workspace=workspace_of(request),
        actor=actor_from_request(request),
        raw=uploaded_bytes(request),
        dry_run=dry_run,
        **kwargs,
    )
    return Response(result.as_dict())
