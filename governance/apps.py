from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    """The people of a workspace: invitations, roles, linked members, deactivation."""

    name = "governance"
