"""The one write of the map: placing the book's accounts (DESIGN §10), as a chunked job."""

from django.db import connection, transaction
from django.utils import timezone

from book import services as book_services
from book.models import Account
from jobs import selectors as job_selectors
from jobs import services as job_services
from jobs.models import ACTIVE_STATUSES, Job, JobKind
from revorg.models import Workspace

from . import places, selectors
from .models import AccountPlace, MapSnapshot, PinCell, Precision, RegionTotal
from .selectors import SUMMARIZE

LOCATE = "geo.accounts_locate"


def accounts_locate_start(*, workspace, actor_label: str):
    """Places every account from its address. It derives data from the book as a
    re-evaluation does, so it is a job of kind `reevaluate` (the API's job kinds are fixed)."""
    return job_services.job_create(
        workspace=workspace, kind=JobKind.REEVALUATE, handler=LOCATE, actor_label=actor_label
    )


def accounts_locate_request(*, workspace, actor_label: str):
    """Debounced: no second job while one is waiting or running in the workspace (the running
    one's last chunk is open-ended, so it also reaches accounts added meanwhile)."""
    with transaction.atomic():
        _lock_workspace(workspace)
        if job_selectors.job_active_exists(workspace=workspace, handler=LOCATE):
            return None
        return accounts_locate_start(workspace=workspace, actor_label=actor_label)


def _lock_workspace(workspace) -> None:
    """Two requests at once see one job: the check and the create happen under the
    workspace's row lock."""
    Workspace.objects.select_for_update().filter(pk=workspace.pk).first()


def locate_plan(job) -> list[dict]:
    """The book's chunks: id ranges of BOOK_CHUNK_SIZE accounts, as re-evaluation uses."""
    return book_services.account_ranges(job)


def locate_prepare(job, payload) -> list[AccountPlace]:
    """Outside the transaction: resolve each account of the chunk whose address changed
    since it was last placed (a rerun with nothing changed writes nothing)."""
    accounts = Account._meta.db_table
    place_table = AccountPlace._meta.db_table
    upper = "" if payload["max_id"] is None else " AND a.id <= %s"
    params = [job.workspace_id, payload["min_id"]]
    if payload["max_id"] is not None:
        params.append(payload["max_id"])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.id, a.fields ->> 'country', a.fields ->> 'state', "
            "a.fields ->> 'postal_code', a.fields ->> 'city', p.source "
            f"FROM {accounts} a LEFT JOIN {place_table} p ON p.account_id = a.id "
            f"WHERE a.workspace_id = %s AND a.id >= %s{upper}",
            params,
        )
        rows = cursor.fetchall()
    gazetteer = places.gazetteer()
    now = timezone.now()
    changed = []
    for account_id, country_value, state_value, postal_code, city, known_source in rows:
        source = places.address_key(
            {
                "country": country_value,
                "state": state_value,
                "postal_code": postal_code,
                "city": city,
            }
        )
        if source == known_source:
            continue
        country, state = places.region_of(country_value, state_value)
        position = gazetteer.locate(
            country=country, state=state, postal_code=postal_code, city=city
        )
        changed.append(
            AccountPlace(
                account_id=account_id,
                workspace_id=job.workspace_id,
                source=source,
                country=country,
                state=state,
                latitude=position.latitude if position else None,
                longitude=position.longitude if position else None,
                precision=position.precision if position else Precision.NONE,
                located_at=now,
            )
        )
    return changed


def locate_apply(job, payload, prepared: list[AccountPlace]) -> tuple[dict, list]:
    """Inside the chunk's transaction: upsert the changed places (an account deleted since
    the read has no row to point at: it is skipped)."""
    existing = set(
        Account.objects.filter(
            workspace_id=job.workspace_id, pk__in=[place.account_id for place in prepared]
        ).values_list("pk", flat=True)
    )
    rows = [place for place in prepared if place.account_id in existing]
    AccountPlace.objects.bulk_create(
        rows,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["account"],
        update_fields=[
            "source",
            "country",
            "state",
            "latitude",
            "longitude",
            "precision",
            "located_at",
        ],
    )
    located = sum(1 for place in rows if place.latitude is not None)
    return {"placed": len(rows), "located": located, "unresolved": len(rows) - located}, []


def accounts_locate_ensure(*, workspace, actor_label: str):
    """The workspace's waiting or running locate job, or a new one."""
    with transaction.atomic():
        _lock_workspace(workspace)
        active = (
            Job.objects.filter(workspace=workspace, handler=LOCATE, status__in=ACTIVE_STATUSES)
            .order_by("-created_at", "-id")
            .first()
        )
        return active or accounts_locate_start(workspace=workspace, actor_label=actor_label)


# --- the summary of a large book -----------------------------------------------------------


def regions_summarize_request(*, workspace, actor_label: str):
    """Debounced like placing: one summarize job waiting or running per workspace."""
    with transaction.atomic():
        _lock_workspace(workspace)
        if job_selectors.job_active_exists(workspace=workspace, handler=SUMMARIZE):
            return None
        return job_services.job_create(
            workspace=workspace,
            kind=JobKind.REEVALUATE,
            handler=SUMMARIZE,
            actor_label=actor_label,
        )


def summarize_plan(job) -> list[dict]:
    """One chunk: the summary is a few GROUP BYs over the book, replaced whole."""
    return [{"size": 1}]


def summarize_prepare(job, payload) -> tuple:
    """Outside the transaction: the scans of the book (seconds on a million accounts)."""
    built_at = timezone.now()
    return (
        built_at,
        selectors.book_totals(workspace=job.workspace, by_owner=True),
        selectors.pin_cells_all(workspace=job.workspace),
    )


def summarize_apply(job, payload, prepared) -> tuple[dict, list]:
    built_at, totals, cells = prepared
    PinCell.objects.filter(workspace_id=job.workspace_id).delete()
    PinCell.objects.bulk_create(
        (
            PinCell(
                workspace_id=job.workspace_id,
                zoom=zoom,
                count=count,
                latitude=latitude,
                longitude=longitude,
                account_id=account_id,
                cell_x=cell_x,
                cell_y=cell_y,
            )
            for zoom, count, latitude, longitude, account_id, cell_x, cell_y in cells
        ),
        batch_size=5000,
    )
    RegionTotal.objects.filter(workspace_id=job.workspace_id).delete()
    RegionTotal.objects.bulk_create(
        (
            RegionTotal(
                workspace_id=job.workspace_id,
                country=country,
                state=state,
                owner_id=owner_id,
                **row,
            )
            for (country, state, owner_id), row in totals.items()
        ),
        batch_size=2000,
    )
    accounts = sum(row["accounts"] for row in totals.values())
    MapSnapshot.objects.update_or_create(
        workspace_id=job.workspace_id, defaults={"built_at": built_at, "accounts": accounts}
    )
    return {"regions": len(totals), "accounts": accounts, "pin_cells": len(cells)}, []


def after_locate(job) -> None:
    """Positions changed: a large book's summary counts them, so it is made again."""
    from django.conf import settings

    snapshot = MapSnapshot.objects.filter(workspace_id=job.workspace_id).first()
    if snapshot is not None or job.progress_total > settings.GEO_LIVE_MAX_ACCOUNTS:
        regions_summarize_request(workspace=job.workspace, actor_label=f"after job {job.pk}")
