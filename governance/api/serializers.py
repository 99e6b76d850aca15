from rest_framework import serializers

from revorg.api import WorkspaceScopedSerializer
from revorg.models import Role, WorkspaceMembership


class UserSerializer(WorkspaceScopedSerializer):
    """A person of the workspace: `id` is the user's, role / member / territory / is_active
    are the workspace's (a person may be in several workspaces with other roles)."""

    id = serializers.IntegerField(source="user_id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.SerializerMethodField()
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    is_active = serializers.BooleanField(required=False)

    class Meta:
        model = WorkspaceMembership
        fields = ["id", "email", "name", "role", "member", "territory", "is_active"]
        extra_kwargs = {
            "member": {"required": False, "allow_null": True},
            "territory": {"required": False, "allow_null": True},
        }

    def get_name(self, membership) -> str:
        return membership.user.get_full_name() or membership.user.get_username()


class InviteSerializer(WorkspaceScopedSerializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = WorkspaceMembership
        fields = ["email", "role", "member", "territory"]
        extra_kwargs = {
            "member": {"required": False, "allow_null": True},
            "territory": {"required": False, "allow_null": True},
        }
