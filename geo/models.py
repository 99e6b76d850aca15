"""Where each account is on the map (DESIGN §10): a position resolved offline from its
postal code or city and country, kept beside the book rather than on it so that the book
stays the CRM's mirror and the map can be rebuilt at any time."""

from django.db import models


class Precision(models.TextChoices):
    POSTAL_CODE = "postal_code", "Postal code"
    CITY = "city", "City"
    NONE = "", "Not resolvable"


class AccountPlace(models.Model):
    account = models.OneToOneField(
        "book.Account", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    workspace = models.ForeignKey(
        "revorg.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # The address fields the position came from: a rerun skips accounts whose address is
    # unchanged, and a changed address is resolved again.
    source = models.CharField(max_length=400)
    # The region the address names (geo.places codes: "US", "US-CA"; '' when unknown), for
    # listing a region's accounts without reading every account's fields.
    country = models.CharField(max_length=2, blank=True, default="")
    state = models.CharField(max_length=8, blank=True, default="")
    # Null when the address resolves to no known place: the account is counted, not drawn.
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    precision = models.CharField(
        max_length=16, choices=Precision.choices, blank=True, default=Precision.NONE
    )
    located_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "precision"], name="geo_place_ws_precision"),
            # A region's accounts (map_region) from the index alone: it carries their ids.
            models.Index(
                fields=["workspace", "country"], include=["account"], name="geo_place_ws_country"
            ),
            models.Index(
                fields=["workspace", "state"], include=["account"], name="geo_place_ws_state"
            ),
            models.Index(
                fields=["workspace", "longitude", "latitude"],
                condition=models.Q(latitude__isnull=False),
                name="geo_place_ws_position",
            ),
        ]

    def __str__(self) -> str:
        return f"account {self.account_id} at {self.latitude},{self.longitude}"


class MapSnapshot(models.Model):
    """When the region totals of a large book were last computed (one row per workspace)."""

    workspace = models.OneToOneField("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    built_at = models.DateTimeField()
    accounts = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"map snapshot of workspace {self.workspace_id} at {self.built_at}"


class RegionTotal(models.Model):
    """The book of a large workspace summed per region and owner by the summarize job, so
    that the world view reads a few thousand rows instead of a million accounts."""

    workspace = models.ForeignKey(
        "revorg.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    country = models.CharField(max_length=2, blank=True, default="")  # '' = unknown country
    state = models.CharField(max_length=8, blank=True, default="")
    owner_id = models.BigIntegerField(null=True, blank=True)  # a member id, not a key: a
    # deleted member's accounts stay counted until the next summary
    accounts = models.PositiveIntegerField(default=0)
    orphaned = models.PositiveIntegerField(default=0)
    located = models.PositiveIntegerField(default=0)
    unresolved = models.PositiveIntegerField(default=0)
    open_pipeline = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        indexes = [models.Index(fields=["workspace", "owner_id"], name="geo_total_ws_owner")]

    def __str__(self) -> str:
        return f"{self.country or '?'} {self.state} owner {self.owner_id}: {self.accounts}"


class PinCell(models.Model):
    """A large book's pins at the coarse zoom levels (the whole world in view), clustered by
    the summarize job on the same grid the live query uses."""

    workspace = models.ForeignKey(
        "revorg.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    zoom = models.PositiveSmallIntegerField()
    cell_x = models.IntegerField()
    cell_y = models.IntegerField()
    count = models.PositiveIntegerField()
    latitude = models.FloatField()
    longitude = models.FloatField()
    account_id = models.BigIntegerField()  # the lowest id in the cell: the pin when alone

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "zoom", "cell_x", "cell_y"], name="geo_cell_ws_zoom")
        ]

    def __str__(self) -> str:
        return f"zoom {self.zoom} cell {self.cell_x},{self.cell_y}: {self.count}"
