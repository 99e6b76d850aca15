from . import selectors


def workspace(request):
    user = getattr(request, "user", None)
    return {
        "current_workspace": getattr(request, "workspace", None),
        "current_role": getattr(request, "role", None),
        "memberships": selectors.membership_list_for_user(user=user) if user else [],
    }
