from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Job


class JobProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class JobErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True)
    column = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class JobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    errors = JobErrorSerializer(many=True, read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "result",
            "errors",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(JobProgressSerializer)
    def get_progress(self, job) -> dict:
        return {"done": job.progress_done, "total": job.progress_total}
