"""The metrics a map region can be coloured by. Attainment comes from the analytics app
(quotas, DESIGN §10) and is offered only where that app provides it."""

from importlib import import_module

BASE_METRICS = ("accounts", "open_pipeline", "white_space")
# analytics.selectors.<this>(*, workspace, period=None) -> {territory_id: (won_amount, quota)}
# rolled up through the territory tree, for `period` (None: the current fiscal quarter): the
# contract the map reads attainment through (geo.selectors.region_attainment aggregates it).
ATTAINMENT_SELECTOR = "territory_won_and_quota"


def attainment_source():
    """The analytics selector the map reads attainment through, or None when the analytics
    app (or its selector) is not installed in this build."""
    from django.apps import apps

    if not apps.is_installed("analytics"):
        return None
    try:
        selectors = import_module("analytics.selectors")
    except ImportError:
        return None
    return getattr(selectors, ATTAINMENT_SELECTOR, None)


def available_metrics() -> tuple[str, ...]:
    return (*BASE_METRICS, "attainment") if attainment_source() else BASE_METRICS
