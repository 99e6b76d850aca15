"""The map's query parameters, read one way for the API and the page: a bad value is a 400
naming the parameter (revorg.parsing), never a 500."""

import math

from django.utils import timezone

from analytics.periods import period_parse
from members.models import Member
from revorg.parsing import BadParameter, parse_id, parse_int

from .selectors import MAX_ZOOM, BBox, MapFilters

MAX_LEVEL = 20


def filters_from(params, workspace) -> MapFilters:
    owner_id = parse_id(params.get("owner"), field="owner")
    if (
        owner_id is not None
        and not Member.objects.filter(workspace=workspace, pk=owner_id).exists()
    ):
        raise BadParameter("Owner must be a member of this workspace.", field="owner")
    level = parse_int(params.get("level"), field="level", minimum=1, maximum=MAX_LEVEL)
    period = None
    if params.get("period_start") or params.get("period_end"):
        # Attainment's period, as the analytics endpoints read it (both dates or neither).
        period = period_parse(
            start_text=params.get("period_start"),
            end_text=params.get("period_end"),
            fiscal_start_month=workspace.fiscal_year_start_month,
            today=timezone.localdate(),
        )
    return MapFilters(owner_id=owner_id, level=level, period=period)


def zoom_from(params) -> int:
    return parse_int(params.get("zoom"), field="zoom", minimum=0, maximum=MAX_ZOOM, default=0)


def bbox_from(params) -> BBox:
    """`west,south,east,north` in degrees; west > east crosses the antimeridian."""
    text = params.get("bbox")
    if text is None or not str(text).strip():
        raise BadParameter("Bbox is required: west,south,east,north in degrees.", field="bbox")
    parts = str(text).split(",")
    if len(parts) != 4 or len(text) > 200:
        raise BadParameter("Bbox must be four numbers: west,south,east,north.", field="bbox")
    try:
        west, south, east, north = (float(part) for part in parts)
    except ValueError:
        raise BadParameter(
            "Bbox must be four numbers: west,south,east,north.", field="bbox"
        ) from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise BadParameter("Bbox must be four finite numbers.", field="bbox")
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise BadParameter("Bbox longitudes must be between -180 and 180.", field="bbox")
    if not (-90 <= south <= north <= 90):
        raise BadParameter(
            "Bbox latitudes must be between -90 and 90, south before north.", field="bbox"
        )
    return BBox(west=west, south=south, east=east, north=north)
