"""CRM connections: settings validated per provider, credentials write-only."""

from rest_framework import serializers

from revorg.api import WorkspaceScopedSerializer

from ..endpoints import endpoint_host_problem, endpoint_url_problem
from ..field_mapping import field_mapping_effective, field_mapping_errors
from ..models import CrmConnection, CrmProvider, SyncRun

SETTINGS = {
    CrmProvider.SALESFORCE: {
        "instance_url",
        "login_url",
        "api_version",
        "sync_interval_minutes",
        "field_mapping",
        "bulk_threshold",
        "bulk_page_size",
        "acceptance_signal",
    },
    CrmProvider.HUBSPOT: {
        "base_url",
        "sync_interval_minutes",
        "field_mapping",
        "acceptance_signal",
    },
}
# What a sync takes as the owner's acceptance of an allocated lead or contact (SLA).
ACCEPTANCE_SIGNALS = ("none", "status_change", "first_activity")
URL_SETTINGS = ("instance_url", "login_url", "base_url")
SALESFORCE_CREDENTIALS = (
    ("client_id", "client_secret"),  # OAuth client credentials
    ("client_id", "username", "private_key"),  # JWT bearer
    ("client_id", "refresh_token"),  # refresh token
    ("access_token",),  # a session already issued
)


def settings_errors(provider: str, settings) -> dict[str, list[str]]:
    if not isinstance(settings, dict):
        return {"settings": ["must be an object"]}
    errors = {}
    for key in sorted(set(settings) - SETTINGS[provider]):
        errors[f"settings.{key}"] = [f"unknown setting for {provider}"]
    for key in URL_SETTINGS:
        value = settings.get(key)
        if value is None:
            continue
        if problem := endpoint_url_problem(value) or endpoint_host_problem(value):
            errors[f"settings.{key}"] = [problem]
    if provider == CrmProvider.SALESFORCE and not settings.get("instance_url"):
        errors["settings.instance_url"] = ["required for Salesforce"]
    version = settings.get("api_version")
    if version is not None and not (isinstance(version, str) and _is_version(version)):
        errors["settings.api_version"] = ['like "62.0"']
    minutes = settings.get("sync_interval_minutes")
    if minutes is not None and not (
        isinstance(minutes, int) and not isinstance(minutes, bool) and 5 <= minutes <= 10080
    ):
        errors["settings.sync_interval_minutes"] = ["a whole number of minutes, 5 to 10080"]
    signal = settings.get("acceptance_signal", "none")
    if signal not in ACCEPTANCE_SIGNALS:
        errors["settings.acceptance_signal"] = [f"one of {', '.join(ACCEPTANCE_SIGNALS)}"]
    if "field_mapping" in settings:
        errors.update(field_mapping_errors(provider, settings["field_mapping"]))
    for key in ("bulk_threshold", "bulk_page_size"):
        count = settings.get(key)
        if count is not None and not (
            isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= 1_000_000
        ):
            errors[f"settings.{key}"] = ["a whole number of records, 1 to 1000000"]
    return errors


def _is_version(text: str) -> bool:
    major, _, minor = text.partition(".")
    return major.isdigit() and minor.isdigit()


def credentials_errors(provider: str, credentials) -> list[str]:
    if not isinstance(credentials, dict) or not all(
        isinstance(value, str) and value for value in credentials.values()
    ):
        return ["must be an object of non-empty strings"]
    given = {key for key, value in credentials.items() if value}
    if provider == CrmProvider.HUBSPOT:
        return [] if "access_token" in given else ["HubSpot needs access_token (private app)"]
    if any(set(option) <= given for option in SALESFORCE_CREDENTIALS):
        return []
    return [
        "Salesforce needs client_id + client_secret, client_id + username + private_key, "
        "client_id + refresh_token, or access_token"
    ]


class CrmConnectionSerializer(WorkspaceScopedSerializer):
    credentials = serializers.JSONField(write_only=True, required=False)
    credentials_set = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    field_mapping = serializers.SerializerMethodField()
    settings = serializers.JSONField(required=False)

    class Meta:
        model = CrmConnection
        fields = [
            "id",
            "provider",
            "name",
            "status",
            "is_active",
            "last_synced_at",
            "settings",
            "field_mapping",
            "credentials",
            "credentials_set",
            "created_at",
        ]
        read_only_fields = ["last_synced_at", "created_at"]

    def get_credentials_set(self, connection) -> bool:
        return bool(connection.credentials_encrypted)

    def get_field_mapping(self, connection) -> dict[str, str]:
        """The mapping the book sync uses (rule field -> CRM field): the CRM's defaults
        overlaid with `settings.field_mapping`."""
        return field_mapping_effective(provider=connection.provider, settings=connection.settings)

    def get_status(self, connection) -> str:
        """disabled, needs_reauth (the CRM refused the credentials: reconnect), never_synced,
        or the outcome of the latest sync run."""
        if not connection.is_active:
            return "disabled"
        if connection.needs_reauth:
            return "needs_reauth"
        last = connection.runs.order_by("-started_at", "-id").first()
        return last.status if last else "never_synced"

    def validate(self, attrs):
        provider = attrs.get("provider", getattr(self.instance, "provider", None))
        if self.instance is not None and "provider" in attrs and provider != self.instance.provider:
            raise serializers.ValidationError({"provider": ["cannot change; add a connection"]})
        settings = attrs.get("settings", getattr(self.instance, "settings", {}))
        errors = settings_errors(provider, settings)
        if "credentials" in attrs:
            if problems := credentials_errors(provider, attrs["credentials"]):
                errors["credentials"] = problems
        elif self.instance is None:
            errors["credentials"] = ["required"]
        elif _endpoints_changed(self.instance.settings, settings):
            # The stored secret must never follow a URL to a host its owner did not choose.
            errors["credentials"] = ["required again when an endpoint URL changes"]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def _endpoints_changed(before, after) -> bool:
    before, after = before or {}, after if isinstance(after, dict) else {}
    return any(before.get(key) != after.get(key) for key in URL_SETTINGS)


class SyncRunSerializer(WorkspaceScopedSerializer):
    stats = serializers.JSONField(source="counts", read_only=True)
    error = serializers.SerializerMethodField()

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "connection",
            "kind",
            "status",
            "started_at",
            "finished_at",
            "stats",
            "error",
        ]
        read_only_fields = fields

    def get_error(self, run) -> str | None:
        return "; ".join(run.errors) if run.errors else None


class BookSyncRequestSerializer(serializers.Serializer):
    full = serializers.BooleanField(
        default=False, help_text="List every record and remove accounts the CRM no longer has."
    )
