"""Request plumbing: the browser user's current workspace, the API body size limit, and
query-string/form values no view can use."""

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone

from . import selectors, zones
from .parsing import BadParameter, nul_field

SESSION_WORKSPACE_KEY = "workspace_id"


class WorkspaceMiddleware:
    """Binds request.membership/workspace/role for a logged-in user (API keys bind later)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        request.workspace = None
        request.role = None
        if request.path.startswith("/api/") and request.headers.get("Authorization"):
            return self._limit_body(request) or self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            membership = selectors.membership_for_user(
                user=user, workspace_id=request.session.get(SESSION_WORKSPACE_KEY)
            )
            if membership is not None:
                request.membership = membership
                request.workspace = membership.workspace
                request.role = membership.role
        return self._limit_body(request) or self.get_response(request)

    @staticmethod
    def _limit_body(request):
        # DRF reads the body as a stream, bypassing DATA_UPLOAD_MAX_MEMORY_SIZE: check it here.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit and length > limit:
            return JsonResponse(
                {
                    "detail": f"request body is {length} bytes; the limit is {limit} bytes",
                    "code": "payload_too_large",
                },
                status=413,
            )
        return None


class ViewerTimezoneMiddleware:
    """Shows a logged-in person's times in their zone: their preference, kept in the session
    after the first read (no query per page), UTC until set. `request.viewer_timezone_set`
    tells the page whether to ask the browser for its zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = ""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith("/api/"):
            name = request.session.get(zones.SESSION_TIMEZONE_KEY)
            if name is None:
                name = selectors.user_timezone_get(user=user)
                request.session[zones.SESSION_TIMEZONE_KEY] = name
        request.viewer_timezone_set = bool(name)
        request.viewer_timezone = zones.zone_get(name)
        timezone.activate(request.viewer_timezone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def bad_parameter_response(request, *, field: str, message: str):
    """A 400 naming the field: `{"field": ["message"]}` for the API, the error page for people."""
    if request.path.startswith("/api/"):
        return JsonResponse({field: [message]}, status=400)
    return render(request, "400.html", {"message": message, "field": field}, status=400)


class RequestParametersMiddleware:
    """Refuses NUL characters in query strings and form fields before any view runs (Postgres
    cannot store or compare them: every such value used to be a 500), and turns the parsing
    helpers' BadParameter raised by a page into the 400 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = nul_field(request.GET)
        if field is None and request.method == "POST" and not request.path.startswith("/api/"):
            # Page forms only: the API reads its own bodies (DRF refuses NUL in text fields).
            field = nul_field(request.POST)
        if field is not None:
            return bad_parameter_response(
                request,
                field=field,
                message=f"“{field}” contains a NUL character (\\x00), which is not allowed.",
            )
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, BadParameter):
            return bad_parameter_response(
                request, field=exception.field or "detail", message=exception.message
            )
        return None


class PageContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp on pages, not on `/api/v1/` answers: those are JSON that no browser renders
    as a document, and building the policy header cost ~0.1 ms of every allocation."""

    def process_response(self, request, response):
        if request.path.startswith("/api/v1/"):
            return response
        return super().process_response(request, response)
