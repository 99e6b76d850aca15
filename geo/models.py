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
            models.Index(
                fields=["workspace", "longitude", "latitude"],
                condition=models.Q(latitude__isnull=False),
                name="geo_place_ws_position",
            ),
        ]

    def __str__(self) -> str:
        return f"account {self.account_id} at {self.latitude},{self.longitude}"
