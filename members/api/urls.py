from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import AbsenceViewSet, MemberViewSet

router = SimpleRouter()
router.register("members", MemberViewSet, basename="member")

absence_list = AbsenceViewSet.as_view({"get": "list", "post": "create"})
absence_detail = AbsenceViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)

urlpatterns = [
    *router.urls,
    path("members/<int:member_pk>/absences/", absence_list, name="absence-list"),
    path("members/<int:member_pk>/absences/<int:pk>/", absence_detail, name="absence-detail"),
]
