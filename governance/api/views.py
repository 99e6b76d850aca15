from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.response import Response

from revorg.api import WorkspaceScopedGenericViewSet, workspace_of
from revorg.models import WorkspaceMembership
from revorg.services import actor_from_request

from .. import services
from ..links import invitation_links
from .serializers import InviteSerializer, UserSerializer

ADMIN_READ = ("read", "admin")
ADMIN_WRITE = ("write", "admin")


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    WorkspaceScopedGenericViewSet,
):
    """The workspace's people (admins only). `PATCH` changes role, linked member, director
    territory or `is_active`; the last active admin cannot be demoted or deactivated (409)."""

    queryset = WorkspaceMembership.objects.select_related("user").order_by("user__email", "pk")
    serializer_class = UserSerializer
    lookup_field = "user_id"
    lookup_url_kwarg = "pk"
    access_rules = {
        "list": ADMIN_READ,
        "retrieve": ADMIN_READ,
        "partial_update": ADMIN_WRITE,
        "invite": ADMIN_WRITE,
    }

    @extend_schema(exclude=True)  # PUT and DELETE answer 405: no operation a client can use
    def update(self, request, *args, **kwargs):
        if kwargs.get("partial"):
            return super().update(request, *args, **kwargs)
        return self.destroy(request, *args, **kwargs)

    @extend_schema(exclude=True)
    def destroy(self, request, *args, **kwargs):
        self.get_object()  # another workspace's user is a 404 first
        raise MethodNotAllowed(
            request.method, detail="Change a user with PATCH; deactivate with is_active=false."
        )

    def perform_update(self, serializer):
        serializer.instance = services.user_update(
            membership=serializer.instance,
            actor=actor_from_request(self.request),
            **serializer.validated_data,
        )

    @extend_schema(request=InviteSerializer, responses={201: UserSerializer})
    @action(detail=False, methods=["post"])
    def invite(self, request):
        """Invite a person by e-mail: a new address gets a set-password link, a user of
        another workspace gets this workspace added (409 when already in it)."""
        serializer = InviteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        invitation = services.user_invite(
            workspace=workspace_of(request),
            actor=actor_from_request(request),
            **serializer.validated_data,
            **invitation_links(request),
        )
        return Response(
            UserSerializer(invitation.membership, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )
