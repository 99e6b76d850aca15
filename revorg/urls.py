from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from governance.views import SetPasswordView
from revorg.api_views import CurrentWorkspaceView
from revorg.views import healthz

api_v1 = [
    path("", include("allocation.api.urls")),  # first: every play's allocation resolves here
    path("workspace/", CurrentWorkspaceView.as_view(), name="workspace-current"),
    path("", include("members.api.urls")),
    path("", include("transitions.api.urls")),  # before territories: …/{id}/activate/
    path("", include("territories.api.urls")),
    path("", include("capacities.api.urls")),
    path("", include("crm_sync.api.urls")),
    path("", include("jobs.api.urls")),
    path("", include("book.api.urls")),
    path("", include("replay.api.urls")),
    path("", include("analytics.api.urls")),
    path("", include("reassignments.api.urls")),
    path("", include("sla.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("geo.api.urls")),
    path("", include("planning.api.urls")),
    path("", include("governance.api.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init code as a script file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # An invitation's set-password link (governance): the person is not logged in yet.
    path("invitation/<uidb64>/<token>/", SetPasswordView.as_view(), name="set-password"),
    path("", include("console.urls")),
]

handler404 = "revorg.errors.page_not_found"
handler500 = "revorg.errors.server_error"
