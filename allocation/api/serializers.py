"""Input validation for allocation requests: garbage in → 400 naming the field."""

import math
from urllib.parse import urlsplit

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import AllocationStatus, RecordType
from ..rendering import allocation_render  # noqa: F401  (the API representation)
from ..selectors import AllocationState

MAX_INT = 2**63 - 1


def _check_scalar(value, path: str):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise serializers.ValidationError({path: ["Number out of range."]})
        return
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) > 1e300:
            raise serializers.ValidationError({path: ["Number out of range."]})
        return
    raise serializers.ValidationError({path: ["Must be a JSON scalar or a list of scalars."]})


def _fields_check(data):
    if not isinstance(data, dict):
        raise serializers.ValidationError("Must be an object.")
    for key, value in data.items():
        path = f"record.fields.{key}"
        if isinstance(value, list):
            for item in value:
                if isinstance(item, list | dict):
                    raise serializers.ValidationError({path: ["Lists may hold only scalars."]})
                _check_scalar(item, path)
        else:
            _check_scalar(value, path)
    return data


@extend_schema_field(
    {
        "type": "object",
        "description": "rule fields: string keys, JSON scalars or lists of scalars",
        "additionalProperties": {},
    }
)
class FieldsField(serializers.Field):
    def to_internal_value(self, data):
        return _fields_check(data)

    def to_representation(self, value):
        return value


class RecordSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=RecordType.choices)
    id = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    crm = serializers.ChoiceField(
        choices=["salesforce", "hubspot"], required=False, allow_blank=True, default=""
    )
    fields = FieldsField(required=False, default=dict)


_URL_SCHEMES = frozenset(("http", "https"))


def http_url_valid(url: str) -> bool:
    """Any absolute http(s) URL: a scheme, a host, no whitespace or control character.
    Plays run on internal hosts (`http://n8n:5678/run/7`, `https://x/run/7`), which Django's
    URLValidator refuses for want of a top-level domain."""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a port that is not a number in range
    except ValueError:
        return False
    return parts.scheme in _URL_SCHEMES and bool(parts.hostname)


@extend_schema_field(OpenApiTypes.URI)
class HttpUrlField(serializers.CharField):
    """A `CharField` holding an absolute http(s) URL (see `http_url_valid`)."""

    default_error_messages = {
        "invalid": "Enter an absolute http or https URL (a scheme, a host, no spaces)."
    }

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value and not http_url_valid(value):
            self.fail("invalid")
        return value


class PlayRunSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    url = HttpUrlField(max_length=2000, required=False, allow_blank=True, default="")


class AllocateSerializer(serializers.Serializer):
    record = RecordSerializer()
    play_run = PlayRunSerializer(required=False, default=dict)
    idempotency_key = serializers.CharField(max_length=255, required=False, allow_blank=True)
    dry_run = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError({k: ["Unknown field."] for k in sorted(unknown)})
        return attrs


def allocate_request_validate(data) -> dict:
    """The validated allocation request. The common well-formed body is checked by hand:
    building the nested serializer (it deep-copies its fields) cost more than a tenth of an
    allocation. Anything else goes to `AllocateSerializer`, which words every error."""
    validated = _allocate_request_fast(data)
    if validated is None:
        serializer = AllocateSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        validated = serializer.validated_data
    return validated


_RECORD_TYPES = frozenset(RecordType.values)
_CRMS = frozenset(("", "salesforce", "hubspot"))
_TOP_LEVEL_KEYS = frozenset(("record", "play_run", "idempotency_key", "dry_run"))


def _plain_text(value, max_length: int) -> bool:
    """What a `CharField` keeps exactly as given (no trimming, conversion or refusal)."""
    return (
        type(value) is str
        and len(value) <= max_length
        and value.isascii()
        and "\x00" not in value
        and value == value.strip()
    )


def _allocate_request_fast(data) -> dict | None:
    """`AllocateSerializer`'s validated data for a body it accepts as given, or None when
    the serializer must judge the body. Never accepts what the serializer refuses."""
    if type(data) is not dict or "record" not in data or not data.keys() <= _TOP_LEVEL_KEYS:
        return None
    record = data["record"]
    if type(record) is not dict:
        return None
    record_type, fields = record.get("type"), record.get("fields", {})
    record_id, crm = record.get("id", ""), record.get("crm", "")
    if type(record_type) is not str or record_type not in _RECORD_TYPES:
        return None
    if not (_plain_text(record_id, 255) and type(crm) is str and crm in _CRMS):
        return None
    try:
        _fields_check(fields)
    except serializers.ValidationError:
        return None
    validated = {
        "record": {"type": record_type, "id": record_id, "crm": crm, "fields": fields},
        "play_run": {},
        "dry_run": data.get("dry_run", False),
    }
    if type(validated["dry_run"]) is not bool:
        return None
    if "play_run" in data:  # absent: {} as the serializer's default, unvalidated
        play_run = data["play_run"]
        if type(play_run) is not dict:
            return None
        run_id, url = play_run.get("id", ""), play_run.get("url", "")
        if not (_plain_text(run_id, 255) and _plain_text(url, 2000)):
            return None
        if url and not http_url_valid(url):
            return None
        validated["play_run"] = {"id": run_id, "url": url}
    if "idempotency_key" in data:
        if not _plain_text(data["idempotency_key"], 255):
            return None
        validated["idempotency_key"] = data["idempotency_key"]
    return validated


class ReassignSerializer(serializers.Serializer):
    member = serializers.IntegerField(min_value=1, max_value=MAX_INT)
    reason = serializers.CharField(max_length=2000)
    # Reassign although the member is inactive, absent or at capacity (write scope, or
    # the manager role).
    override = serializers.BooleanField(required=False, default=False)


class ReassignCheckSerializer(serializers.Serializer):
    """The query of the dry check the reassign form runs before it submits."""

    member = serializers.IntegerField(min_value=1, max_value=MAX_INT)


class ReassignCheckResultSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    available = serializers.BooleanField()
    problem = serializers.CharField(allow_null=True, help_text="why not, e.g. 'inactive'")
    may_override = serializers.BooleanField()
    current = serializers.IntegerField(
        allow_null=True, help_text="the record's current entry (the one to reassign)"
    )


# --- what the API sends: the schema's description of `allocation_render` -----------------------


class MemberBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    crm_user_id = serializers.CharField()


class NamedRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DecisionStepSerializer(serializers.Serializer):
    """One step of the decision trace; steps add keys such as `territory` or `member`."""

    step = serializers.CharField(help_text="lock, named_account, territory, conflict, …")
    outcome = serializers.CharField(required=False)
    detail = serializers.CharField(required=False)
    territory = serializers.IntegerField(required=False, allow_null=True)
    member = serializers.IntegerField(required=False, allow_null=True)


class RecordOutSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=RecordType.choices)
    id = serializers.CharField()
    crm = serializers.CharField()
    fields = FieldsField()


class PlayRunOutSerializer(serializers.Serializer):
    id = serializers.CharField()
    url = serializers.CharField()


class WritebackOutSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="none, pending, succeeded, failed or superseded")
    attempts = serializers.IntegerField()
    last_error = serializers.CharField(allow_null=True)


class SlaOutSerializer(serializers.Serializer):
    due_at = serializers.DateTimeField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    breached_at = serializers.DateTimeField(allow_null=True)


class AllocationSerializer(serializers.Serializer):
    """An allocation entry as `allocation_render` sends it (allocate, read, reassign)."""

    id = serializers.IntegerField(allow_null=True, help_text="null on a dry run")
    status = serializers.ChoiceField(choices=AllocationStatus.choices)
    owner = MemberBriefSerializer(allow_null=True)
    territory = NamedRefSerializer(allow_null=True)
    overlays = NamedRefSerializer(many=True)
    decision = DecisionStepSerializer(many=True)
    record = RecordOutSerializer()
    play_run = PlayRunOutSerializer()
    writeback = WritebackOutSerializer()
    sla = SlaOutSerializer(
        allow_null=True,
        help_text="under an SLA policy: when it is due, accepted, breached (null otherwise)",
    )
    reassigned_from = serializers.IntegerField(allow_null=True)
    state = serializers.ChoiceField(
        choices=AllocationState.choices,
        help_text="current, or what replaced it: a reassignment or a later allocation",
    )
    successor = serializers.IntegerField(
        allow_null=True, help_text="the id of the entry that replaced this one"
    )
    reason = serializers.CharField()
    actor = serializers.CharField()
    dry_run = serializers.BooleanField()
    created_at = serializers.DateTimeField(allow_null=True)
