"""The demo workspace that `make run` seeds, so a first look shows a realistic sales team."""

from django.db import transaction

from members.models import Member
from revorg import services
from revorg.models import Role, Workspace

from .services import workspace_setup

DEMO_SLUG = "demo"
DEMO_USERNAME = "admin"
DEMO_PASSWORD = "revorg-demo"
DEMO_KEY_NAME = "make run"

DEMO_MEMBERS = [
    # name, title, timezone, languages, specialisations, seniority
    (
        "Ada Park",
        "Account Executive",
        "America/Los_Angeles",
        ["en", "ko"],
        ["healthcare"],
        "senior",
    ),
    ("Ben Ortiz", "Account Executive", "America/Los_Angeles", ["en", "es"], ["fintech"], "mid"),
    ("Chloé Martin", "Account Executive", "Europe/Paris", ["fr", "en"], ["retail"], "senior"),
    ("Dev Rao", "Account Executive", "America/New_York", ["en", "hi"], ["healthcare"], "junior"),
    ("Emma Schulz", "Account Executive", "Europe/Berlin", ["de", "en"], ["manufacturing"], "mid"),
    ("Farah Haddad", "SDR", "Europe/London", ["en", "ar", "fr"], ["saas"], "junior"),
    ("Gus Lindqvist", "SDR", "Europe/Stockholm", ["sv", "en"], ["saas"], "junior"),
    ("Hana Sato", "Account Executive", "Asia/Tokyo", ["ja", "en"], ["manufacturing"], "senior"),
    ("Ivan Petrov", "Enterprise AE", "America/Chicago", ["en", "ru"], ["fintech"], "senior"),
    ("Jade Nguyen", "Enterprise AE", "America/New_York", ["en", "vi"], ["retail"], "mid"),
    ("Kofi Mensah", "SDR", "America/Chicago", ["en"], ["healthcare", "saas"], "junior"),
    ("Lena Costa", "Sales Manager", "America/New_York", ["en", "pt", "es"], [], "manager"),
]


@transaction.atomic
def load_demo() -> tuple[Workspace, str]:
    """Idempotent: creates what is missing; returns the workspace and a fresh API key."""
    workspace = Workspace.objects.filter(slug=DEMO_SLUG).first() or workspace_setup(
        slug=DEMO_SLUG, name="Acme Demo"
    )
    user = services.user_ensure(username=DEMO_USERNAME, password=DEMO_PASSWORD)
    if not user.is_staff:
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    services.membership_set(workspace=workspace, user=user, role=Role.ADMIN)

    members = {}
    for index, (name, title, tz, languages, specialisations, seniority) in enumerate(DEMO_MEMBERS):
        first = name.split()[0].lower().replace("é", "e")
        member, _ = Member.objects.get_or_create(
            workspace=workspace,
            email=f"{first}@acme.example",
            defaults={
                "name": name,
                "title": title,
                "role": {"SDR": "SDR", "Sales Manager": "manager"}.get(title, "AE"),
                "timezone": tz,
                "crm_provider": "salesforce",
                "crm_user_id": f"0055e000001Demo{index:02d}",
                "metadata": {
                    "languages": languages,
                    "specialisations": specialisations,
                    "seniority": seniority,
                },
            },
        )
        members[name] = member
    manager = members["Lena Costa"]
    Member.objects.filter(workspace=workspace).exclude(pk=manager.pk).filter(
        manager__isnull=True
    ).update(manager=manager)

    from territories.demo import seed_demo_territories

    seed_demo_territories(workspace=workspace)

    from capacities.demo import seed_demo_capacities

    seed_demo_capacities(workspace=workspace)

    from book.demo import seed_demo_book

    seed_demo_book(workspace=workspace)

    for key in workspace.api_keys.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True):
        services.api_key_revoke(api_key=key)
    issued = services.api_key_create(
        workspace=workspace, name=DEMO_KEY_NAME, scopes="allocate,read,write", created_by=user
    )
    return workspace, issued.raw_key
