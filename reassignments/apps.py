from django.apps import AppConfig


class ReassignmentsConfig(AppConfig):
    name = "reassignments"
