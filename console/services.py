"""Writes that compose several apps, so the kernel (revorg) never imports a domain app."""

from django.db import transaction

from revorg import services as tenancy_services
from revorg.models import Workspace
from territories.services import plan_ensure_active


@transaction.atomic
def workspace_setup(*, slug: str, name: str) -> Workspace:
    """A new workspace with its first (empty) active plan, so allocation works at once."""
    workspace = tenancy_services.workspace_create(slug=slug, name=name)
    plan_ensure_active(workspace=workspace)
    return workspace
