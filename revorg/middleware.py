"""Request plumbing: the browser user's current workspace, and the API body size limit."""

from django.conf import settings
from django.http import JsonResponse

from . import selectors

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
