from rest_framework import serializers


class ReplayRequestSerializer(serializers.Serializer):
    """The window of history to replay: [since, until)."""

    since = serializers.DateTimeField()
    until = serializers.DateTimeField()

    def validate(self, data):
        if data["since"] >= data["until"]:
            raise serializers.ValidationError({"until": ["must be after since"]})
        return data
