from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("pilots.urls")),
    path("", include("metrics.urls")),
    path("", include("exceptions.urls")),
    path("", include("feedback.urls")),
]
