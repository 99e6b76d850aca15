from django.apps import AppConfig


class CapacitiesConfig(AppConfig):
    name = "capacities"
