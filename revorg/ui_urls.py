from django.urls import path

from . import views

app_name = "ui"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("workspace/switch/", views.workspace_switch, name="workspace-switch"),
]
