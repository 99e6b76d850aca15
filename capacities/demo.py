"""Demo data: daily limits on the demo workspace's account executives."""

from members.models import Member

from .models import Capacity, Period


def seed_demo_capacities(workspace) -> None:
    """Idempotent: re-running the demo seed leaves one daily capacity per AE."""
    for member in Member.objects.filter(workspace=workspace, role="AE").order_by("pk")[:4]:
        Capacity.objects.update_or_create(
            workspace=workspace, member=member, period=Period.DAY, defaults={"limit": 10}
        )
