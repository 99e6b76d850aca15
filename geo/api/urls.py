from django.urls import path

from .views import MapLocateView, MapPinsView, MapRegionsView, MapRegionView

urlpatterns = [
    path("analytics/map/regions/", MapRegionsView.as_view(), name="map-regions"),
    path("analytics/map/regions/<str:code>/", MapRegionView.as_view(), name="map-region"),
    path("analytics/map/pins/", MapPinsView.as_view(), name="map-pins"),
    path("analytics/map/locate/", MapLocateView.as_view(), name="map-locate"),
]
