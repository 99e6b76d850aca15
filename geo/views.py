"""The map page of the console (DESIGN §10). The page is a shell: the static script fetches
the map's data from `/api/v1/analytics/map/…` with the session, and the boundaries from
the npm packages served by Django (no network beyond this server)."""

from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone

from analytics.periods import fiscal_quarter_of, period_choices
from members.models import Member
from revorg.models import ROLE_RANK, Role
from revorg.permissions import role_required

from . import selectors
from .metrics import available_metrics

METRIC_LABELS = {
    "accounts": "Accounts",
    "open_pipeline": "Open pipeline",
    "white_space": "White space (orphaned accounts)",
    "attainment": "Attainment",
}


@role_required("viewer")
def map_page(request):
    workspace = request.workspace
    shapes = selectors.territory_shapes(workspace=workspace, filters=selectors.MapFilters())
    levels = sorted({shape.level for shape in shapes})
    owners = list(
        Member.objects.filter(workspace=workspace, is_active=True)
        .order_by("name", "id")
        .values("id", "name")
    )
    periods = []
    if "attainment" in available_metrics():
        today = timezone.localdate()
        month = workspace.fiscal_year_start_month
        current = fiscal_quarter_of(today, month)
        periods = [
            {
                "label": choice.label,
                "value": f"{choice.start.isoformat()}|{choice.end.isoformat()}",
                "selected": (choice.start, choice.end) == (current.start, current.end),
            }
            for choice in period_choices(fiscal_start_month=month, today=today)
        ]
    config = {
        "regions_url": reverse("map-regions"),
        "region_url": reverse("map-region", kwargs={"code": "CODE"}),
        "pins_url": reverse("map-pins"),
        "locate_url": reverse("map-locate"),
        "account_url": reverse("ui:account", kwargs={"pk": 0}),
        "world_url": static("npm/world-atlas/countries-110m.json"),
        "states_url": static("npm/us-atlas/states-10m.json"),
    }
    return render(
        request,
        "geo/map.html",
        {
            "metrics": [(name, METRIC_LABELS[name]) for name in available_metrics()],
            "levels": levels,
            "periods": periods,
            "owners": owners,
            "config": config,
            "may_locate": ROLE_RANK.get(request.role, -1) >= ROLE_RANK[Role.ADMIN],
        },
    )
