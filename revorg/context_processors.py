from datetime import UTC

from . import selectors
from .zones import zone_name


def workspace(request):
    user = getattr(request, "user", None)
    return {
        "current_workspace": getattr(request, "workspace", None),
        "current_role": getattr(request, "role", None),
        "memberships": selectors.membership_list_for_user(user=user) if user else [],
        "viewer_timezone_set": getattr(request, "viewer_timezone_set", True),
        "viewer_timezone_name": zone_name(getattr(request, "viewer_timezone", None) or UTC),
    }
