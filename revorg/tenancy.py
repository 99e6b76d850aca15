"""The one way browser views read a workspace's rows (the API's is `revorg.api`).

Zulip's rule: lookups always take the tenant, and "not yours" answers exactly as "does not
exist" does. A request without a workspace fails closed (no rows), never open.
"""

from django.db.models import Model, QuerySet
from django.http import Http404


def workspace_rows(request, model_or_queryset: type[Model] | QuerySet) -> QuerySet:
    """The rows of `model_or_queryset` that belong to the request's workspace."""
    queryset = (
        model_or_queryset
        if isinstance(model_or_queryset, QuerySet)
        else model_or_queryset._default_manager.all()
    )
    workspace = getattr(request, "workspace", None)
    if workspace is None:
        return queryset.none()
    return queryset.filter(workspace=workspace)


def workspace_object_or_404(request, model_or_queryset, **lookup):
    """One row of the request's workspace; another workspace's row is a 404, as a missing one."""
    obj = workspace_rows(request, model_or_queryset).filter(**lookup).first()
    if obj is None:
        raise Http404("No such object in this workspace.")
    return obj
