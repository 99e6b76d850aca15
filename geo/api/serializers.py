"""Response shapes of the map endpoints, for the OpenAPI schema (they are read-only)."""

from rest_framework import serializers


class PlacementSerializer(serializers.Serializer):
    accounts = serializers.IntegerField()
    located = serializers.IntegerField(help_text="Accounts with a position (drawn as pins).")
    unresolved = serializers.IntegerField(
        help_text="Accounts whose postal code / city and country match no known place."
    )
    pending = serializers.IntegerField(help_text="Accounts the locate job has not reached yet.")


class MapTerritorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    parent = serializers.IntegerField(allow_null=True)
    level = serializers.IntegerField(help_text="Depth in the hierarchy, 1 for a top territory.")
    countries = serializers.ListField(child=serializers.CharField(), help_text="ISO alpha-2.")
    states = serializers.ListField(child=serializers.CharField(), help_text="e.g. US-CA.")


class MapRegionSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="ISO alpha-2 country or ISO 3166-2 US state code.")
    feature_id = serializers.CharField(
        help_text="Its feature id in world-atlas (ISO numeric) or us-atlas (FIPS)."
    )
    name = serializers.CharField()
    accounts = serializers.IntegerField()
    white_space = serializers.IntegerField(help_text="Orphaned accounts (no territory).")
    open_pipeline = serializers.DecimalField(max_digits=20, decimal_places=2)
    attainment = serializers.FloatField(
        allow_null=True,
        help_text=(
            "A ratio (1.0 = 100 %) for the period asked (default this fiscal quarter): won "
            "/ quota summed over the outermost territories covering the region that have a "
            "quota (their figures rolled up as in /analytics/territories/); null without one."
        ),
    )
    territories = serializers.ListField(child=serializers.IntegerField())


class OutsideRegionsSerializer(serializers.Serializer):
    accounts = serializers.IntegerField()
    white_space = serializers.IntegerField()
    open_pipeline = serializers.DecimalField(max_digits=20, decimal_places=2)


class MapRegionsSerializer(serializers.Serializer):
    metrics = serializers.ListField(child=serializers.CharField())
    placement = PlacementSerializer()
    as_of = serializers.DateTimeField(
        allow_null=True,
        help_text="When the figures were summed (a large book); null when computed now.",
    )
    refreshing = serializers.BooleanField(help_text="A newer summary is being made.")
    outside_known_regions = OutsideRegionsSerializer(
        help_text="Accounts whose country is missing or unknown."
    )
    countries = MapRegionSerializer(many=True)
    states = MapRegionSerializer(many=True)
    territories = MapTerritorySerializer(many=True)


class MapAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    city = serializers.CharField()


class MapRegionDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    territories = MapTerritorySerializer(many=True)
    orphaned_count = serializers.IntegerField()
    orphaned_accounts = MapAccountSerializer(many=True)


class PinAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PinClusterSerializer(serializers.Serializer):
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    count = serializers.IntegerField()
    account = PinAccountSerializer(allow_null=True, help_text="The account, when alone.")


class MapPinsSerializer(serializers.Serializer):
    zoom = serializers.IntegerField()
    cell_degrees = serializers.FloatField()
    capped = serializers.BooleanField(help_text="True when only the largest clusters are sent.")
    accounts = serializers.IntegerField()
    clusters = PinClusterSerializer(many=True)
