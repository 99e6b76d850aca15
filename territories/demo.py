"""Demo territories for `make run`: a small but realistic plan over the demo members."""

from members.models import Member

from . import services
from .models import Territory


def seed_demo_territories(*, workspace) -> None:
    """Idempotent: does nothing once the active plan has territories."""
    plan = services.plan_ensure_active(workspace=workspace)
    if Territory.objects.filter(plan=plan).exists():
        return
    members = {m.name.split()[0]: m for m in Member.objects.filter(workspace=workspace)}

    def slots(*names, role="primary"):
        return [{"member": members[name], "role": role} for name in names if name in members]

    north_america = services.territory_create(
        workspace=workspace,
        plan=plan,
        name="North America",
        kind="geographic",
        priority=10,
        rule={"field": "country", "op": "in", "value": ["US", "CA"]},
        slots=slots("Dev", "Jade", "Ivan") + slots("Kofi", role="backup"),
    )
    services.territory_create(
        workspace=workspace,
        plan=plan,
        name="West — Healthcare",
        kind="hybrid",
        parent=north_america,
        priority=50,
        rule={
            "all": [
                {"field": "state", "op": "in", "value": ["CA", "OR", "WA"]},
                {"field": "industry", "op": "eq", "value": "Healthcare"},
            ]
        },
        distribution="weighted",
        slots=[
            {"member": members["Ada"], "role": "primary", "weight": 3},
            {"member": members["Ben"], "role": "primary", "weight": 1},
            {"member": members["Lena"], "role": "overlay"},
        ],
    )
    services.territory_create(
        workspace=workspace,
        plan=plan,
        name="Europe",
        kind="geographic",
        priority=10,
        rule={"field": "country", "op": "in", "value": ["FR", "DE", "GB", "SE", "ES", "IT"]},
        member_rule={"field": "language", "op": "in", "value_from": "member.languages"},
        slots=slots("Chloé", "Emma", "Farah", "Gus"),
    )
    services.territory_create(
        workspace=workspace,
        plan=plan,
        name="Enterprise",
        kind="company_size",
        priority=30,
        rule={"field": "employees", "op": "gte", "value": 5000},
        distribution="least_loaded",
        slots=slots("Ivan", "Jade", "Hana"),
    )
    services.territory_create(
        workspace=workspace,
        plan=plan,
        name="Strategic accounts",
        kind="named_account",
        priority=90,
        named_accounts=["globex.com", "initech.com", "umbrella.example"],
        slots=slots("Lena", "Ivan"),
    )
