"""One error hierarchy for services and one handler that gives every API error the same shape.

Field errors: `{"field": ["message", ...]}`; other errors: `{"detail": "message", "code": "..."}`.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, OperationalError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A business rule refused the request. `field` names the input at fault, if one is."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message, *, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}

    def as_payload(self) -> dict:
        if self.field:
            messages = self.message if isinstance(self.message, list) else [self.message]
            return {self.field: messages, **self.extra}
        return {"detail": self.message, "code": self.code, **self.extra}


class NotFoundError(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class ConflictError(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class PayloadTooLargeError(ApplicationError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "payload_too_large"


_TRANSIENT_SQLSTATES = frozenset(("40001", "40P01"))  # serialization_failure, deadlock_detected


def _is_transient_conflict(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) in _TRANSIENT_SQLSTATES


def exception_handler(exc, context):
    # Imported here: rest_framework.views loads our authentication classes, which use this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, ApplicationError):
        return Response(exc.as_payload(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "request body too large", "code": "payload_too_large"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, ProtectedError | RestrictedError):
        # Deleting something history still points at (a plan with territories, a territory
        # with allocations): history is never deleted, so the delete is refused.
        kinds = sorted({str(type(obj)._meta.verbose_name_plural) for obj in exc.args[1]})
        return Response(
            {
                "detail": f"still referenced by {', '.join(kinds)}; archive or deactivate it",
                "code": "conflict",
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, OperationalError) and _is_transient_conflict(exc):
        # Postgres chose this transaction as a deadlock or serialization victim (e.g. a
        # reassignment meeting a book re-evaluation): nothing was written; the client retries.
        logger.warning("transient database conflict, answered 503: %s", exc)
        return Response(
            {"detail": "a concurrent change got in the way; nothing was written, retry",
             "code": "retry"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )  # fmt: skip
    if isinstance(exc, DataError):
        # A value the database cannot hold (e.g. an integer out of range) is the client's input.
        logger.info("rejected input the database cannot store: %s", exc)
        return Response(
            {"detail": "a value is out of range or of the wrong type", "code": "invalid"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        response.data = {"non_field_errors": response.data}
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data.setdefault("code", getattr(exc, "default_code", "error"))
    return response


# --- Django's error views: JSON under the API, the templates elsewhere -------------------------

_API_PREFIX = "/api/"


def _json_or_page(request, status_code: int, detail: str, code: str, page):
    if request.path.startswith(_API_PREFIX):
        from django.http import JsonResponse

        return JsonResponse({"detail": detail, "code": code}, status=status_code)
    return page()


def page_not_found(request, exception):
    """An unrouted API path (e.g. /api/v1/members/abc/) is a JSON 404 like any other."""
    from django.views import defaults

    return _json_or_page(
        request, 404, "Not found.", "not_found", lambda: defaults.page_not_found(request, exception)
    )


def server_error(request):
    from django.views import defaults

    return _json_or_page(
        request, 500, "Server error.", "error", lambda: defaults.server_error(request)
    )
