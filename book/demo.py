"""The demo book for `make run`: a few hundred accounts and their deals across the demo
plan's regions (and some no territory covers), so coverage, the book pages and pipeline
figures have something true to show on a first look."""

import random
from datetime import date, timedelta

from jobs import services as job_services

from . import services
from .models import Account, Opportunity

# (country, state, city, postal code) — real places, so a map can put them somewhere.
PLACES = (
    ("US", "CA", "San Francisco", "94105"),
    ("US", "CA", "Los Angeles", "90012"),
    ("US", "OR", "Portland", "97204"),
    ("US", "WA", "Seattle", "98101"),
    ("US", "NY", "New York", "10001"),
    ("US", "TX", "Austin", "78701"),
    ("US", "MA", "Boston", "02110"),
    ("US", "IL", "Chicago", "60601"),
    ("CA", "ON", "Toronto", "M5H"),
    ("FR", "", "Paris", "75002"),
    ("DE", "", "Berlin", "10115"),
    ("GB", "", "London", "EC1A"),
    ("SE", "", "Stockholm", "11120"),
    ("ES", "", "Madrid", "28013"),
    ("IT", "", "Milan", "20121"),
    ("JP", "", "Tokyo", "100-0005"),  # no territory covers these: white space
    ("BR", "", "São Paulo", "01310"),
)
INDUSTRIES = ("Software", "Healthcare", "Retail", "Fintech", "Manufacturing")
WORDS = ("Blue", "North", "Bright", "Iron", "Cedar", "Nova", "Summit", "Harbor", "Atlas", "Pine")
NOUNS = ("Labs", "Systems", "Health", "Foods", "Capital", "Works", "Logistics", "Media")
STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")


def seed_demo_book(*, workspace, accounts: int = 240) -> None:
    """Idempotent: does nothing once the workspace has accounts. Then one re-evaluation
    job, run here, gives every account its territory and owner with their reasons."""
    if Account.objects.filter(workspace=workspace).exists():
        return
    rng = random.Random(42)
    rows = []
    for n in range(accounts):
        country, state, city, postal = rng.choice(PLACES)
        name = f"{rng.choice(WORDS)} {rng.choice(NOUNS)} {n + 1}"
        domain = f"{name.lower().replace(' ', '')}.example"
        fields = {
            "country": country,
            "city": city,
            "postal_code": postal,
            "industry": rng.choice(INDUSTRIES),
            "employees": rng.choice((12, 45, 120, 380, 900, 2400, 7500)),
            "annual_revenue": rng.choice((1, 5, 20, 80, 400)) * 1_000_000,
            "domain": domain,
        }
        if state:
            fields["state"] = state
        rows.append(
            {
                "crm_id": f"001Demo{n + 1:05d}",
                "name": name,
                "domain": domain,
                "fields": fields,
                "owner_id": None,
                "crm_owner_id": "",
            }
        )
    services.accounts_upsert(workspace_id=workspace.pk, provider="salesforce", rows=rows)
    # Run here, so the command ends with the book assigned (no background thread).
    job = services.book_reevaluate_start(workspace=workspace, actor_label="demo", dispatch=False)
    job_services.job_run_inline(job_id=job.pk)
    _seed_opportunities(workspace, rng)


def _seed_opportunities(workspace, rng) -> None:
    """Open deals, and a year of won and lost ones, owned by their account's owner."""
    today = date.today()
    deals = []
    for account in Account.objects.filter(workspace=workspace).order_by("id"):
        for k in range(rng.choice((0, 1, 1, 2, 3))):
            created = today - timedelta(days=rng.randint(20, 400))
            closed = rng.random() < 0.55 and created < today - timedelta(days=30)
            won = closed and rng.random() < 0.45
            closed_on = min(created + timedelta(days=rng.randint(15, 120)), today)
            deals.append(
                Opportunity(
                    workspace=workspace,
                    crm_provider="salesforce",
                    crm_id=f"006{account.crm_id[3:]}{k}",
                    account=account,
                    name=f"{account.name} — deal {k + 1}",
                    owner_id=account.owner_id,
                    stage=("Closed Won" if won else "Closed Lost")
                    if closed
                    else rng.choice(STAGES),
                    probability=(100 if won else 0) if closed else rng.choice((10, 20, 40, 60, 80)),
                    amount=rng.choice((8, 15, 25, 40, 60, 120)) * 1000,
                    close_date=closed_on if closed else today + timedelta(days=rng.randint(5, 90)),
                    is_closed=closed,
                    is_won=won,
                    created_date=created,
                    closed_date=closed_on if closed else None,
                    closed_territory_id=account.territory_id if closed else None,
                )
            )
    Opportunity.objects.bulk_create(deals, batch_size=500)
