"""Routes. Every answer is JSON, including Django-level 400/403/404/500."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from platform_api import health
from platform_api.schema import SchemaDocsView, SchemaView

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v2/schema/", SchemaView.as_view(), name="schema"),
    path("api/v2/docs/", SchemaDocsView.as_view(url_name="schema"), name="docs"),
    path("api/v2/platform/", include("orders.urls")),
    path("api/v2/platform/", include("ambassadors.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
]

handler400 = "platform_api.errors.bad_request"
handler403 = "platform_api.errors.permission_denied"
handler404 = "platform_api.errors.not_found"
handler500 = "platform_api.errors.server_error"
