"""The one way browser views read a workspace's rows (the API's is `revorg.api`).

Zulip's rule: lookups always take the tenant, and "not yours" answers exactly as "does not
exist" does. A request without a workspace fails closed (no rows), never open. Rows outside
the person's role scope (`revorg.scope`) are not found either.
"""

from django.db.models import Model, QuerySet
from django.http import Http404

from .scope import row_scope_for_request, rows_in_scope


def workspace_rows(request, model_or_queryset: type[Model] | QuerySet) -> QuerySet:
    """The rows of `model_or_queryset` that belong to the request's workspace and lie in the
    person's scope."""
    queryset = (
        model_or_queryset
        if isinstance(model_or_queryset, QuerySet)
        else model_or_queryset._default_manager.all()
    )
    workspace = getattr(request, "workspace", None)
    if workspace is None:
        return queryset.none()
    return rows_in_scope(queryset.filter(workspace=workspace), scope=row_scope_for_request(request))


def workspace_object_or_404(request, model_or_queryset, **lookup):
    """One row of the request's workspace; another workspace's row is a 404, as a missing one."""
    obj = workspace_rows(request, model_or_queryset).filter(**lookup).first()
    if obj is None:
        raise Http404("No such object in this workspace.")
    return obj
