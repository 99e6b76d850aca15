from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from rest_framework import serializers

from revorg.api import WorkspaceScopedSerializer

from ..models import Absence, Member
from ..validation import metadata_errors, timezone_errors, working_hours_errors


class MemberSerializer(WorkspaceScopedSerializer):
    # Members imported from a CRM may have no email: a string field (not format "email") so
    # that the schema admits the "" they are sent with.
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    metadata = serializers.JSONField(required=False)
    working_hours = serializers.JSONField(
        required=False,
        help_text='per weekday in the member\'s zone, e.g. {"mon": [["09:00", "17:00"]]}; '
        "{} = round the clock (SLA clocks count only this time)",
    )

    class Meta:
        model = Member
        fields = [
            "id",
            "name",
            "email",
            "title",
            "role",
            "timezone",
            "is_active",
            "manager",
            "crm_provider",
            "crm_user_id",
            "metadata",
            "working_hours",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_email(self, value):
        if value:
            try:
                validate_email(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages) from exc
        return value

    def validate_timezone(self, value):
        if errors := timezone_errors(value):
            raise serializers.ValidationError(errors)
        return value

    def validate_metadata(self, value):
        if errors := metadata_errors(value):
            raise serializers.ValidationError(errors)
        return value

    def validate_working_hours(self, value):
        if errors := working_hours_errors(value):
            raise serializers.ValidationError(errors)
        return value

    def validate_manager(self, manager):
        if manager is None or self.instance is None:
            return manager
        seen = {self.instance.pk}
        cursor = manager
        while cursor is not None:
            if cursor.pk in seen:
                raise serializers.ValidationError(
                    "a member cannot be their own manager, directly or through others"
                )
            seen.add(cursor.pk)
            cursor = cursor.manager
        return manager

    def validate(self, attrs):
        provider = attrs.get("crm_provider", getattr(self.instance, "crm_provider", ""))
        crm_user_id = attrs.get("crm_user_id", getattr(self.instance, "crm_user_id", ""))
        if crm_user_id and not provider:
            raise serializers.ValidationError({"crm_provider": ["required with crm_user_id"]})
        workspace = self.context.get("workspace")
        if crm_user_id and workspace is not None:
            clash = Member.objects.filter(
                workspace=workspace, crm_provider=provider, crm_user_id=crm_user_id
            )
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise serializers.ValidationError(
                    {"crm_user_id": [f"another member already has {provider} user {crm_user_id}"]}
                )
        return attrs


class AbsenceSerializer(WorkspaceScopedSerializer):
    class Meta:
        model = Absence
        fields = ["id", "member", "starts_at", "ends_at", "reason", "created_at"]
        read_only_fields = ["member", "created_at"]

    def validate(self, attrs):
        starts_at = attrs.get("starts_at", getattr(self.instance, "starts_at", None))
        ends_at = attrs.get("ends_at", getattr(self.instance, "ends_at", None))
        if starts_at and ends_at and ends_at <= starts_at:
            raise serializers.ValidationError({"ends_at": ["must be after starts_at"]})
        return attrs
