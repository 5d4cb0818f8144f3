from django.contrib import admin
from django.urls import include, path, re_path

from config.api import urls as api_urls
from pilots.api_support import not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api_urls),
    re_path(r"^api/(?P<path>.*)$", not_found),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("pilots.urls")),
    path("", include("metrics.urls")),
    path("", include("exceptions.urls")),
    path("", include("feedback.urls")),
]
