from django.urls import path

from metrics.views import definitions, measurements

urlpatterns = [
    path("pilots/<int:pilot_id>/metrics/", definitions.metric_list, name="metric_list"),
    path("pilots/<int:pilot_id>/metrics/panel/", definitions.metric_panel, name="metric_panel"),
    path("pilots/<int:pilot_id>/metrics/new/", definitions.metric_create, name="metric_create"),
    path("pilots/<int:pilot_id>/metrics/<int:metric_id>/", measurements.metric_detail, name="metric_detail"),
    path("pilots/<int:pilot_id>/metrics/<int:metric_id>/edit/", definitions.metric_edit, name="metric_edit"),
    path(
        "pilots/<int:pilot_id>/metrics/<int:metric_id>/measurements/",
        measurements.measurement_add,
        name="measurement_add",
    ),
    path(
        "pilots/<int:pilot_id>/metrics/<int:metric_id>/measurements/import/",
        measurements.measurement_import,
        name="measurement_import",
    ),
    path(
        "pilots/<int:pilot_id>/metrics/<int:metric_id>/recompute/",
        measurements.metric_recompute,
        name="metric_recompute",
    ),
]
