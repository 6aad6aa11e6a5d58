from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from wisdom import openapi
from wisdom.exceptions import json_not_found

urlpatterns = [
    # The chats' routes first: each route tried before the one that matches is work, and a list kept per request.
    path("", include("personal.urls")),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("invites.urls")),
    path("", include("mail.urls")),
    path("api/schema", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="schema"),
    # The same schema for Swagger UI, each operation listing every scheme it takes, so Authorize works with each.
    path(
        "api/schema/docs",
        SpectacularAPIView.as_view(
            authentication_classes=[], permission_classes=[], custom_settings=openapi.DOCS_PAGE_SETTINGS
        ),
        name="schema-docs",
    ),
    path(
        "api/docs",
        SpectacularSwaggerView.as_view(
            url_name="schema-docs", title=openapi.DOCS_PAGE_TITLE, authentication_classes=[], permission_classes=[]
        ),
        name="swagger-ui",
    ),
    # Last: any other path but the admin's and static files' is a JSON 404, also under DEBUG, where
    # Django would answer with its HTML page listing every route. CSRF-exempt, as an API view is: a POST
    # to an unknown route is a 404, not the CSRF middleware's HTML 403.
    re_path(r"^(?!admin/|static/)", csrf_exempt(json_not_found), name="not-found"),
]

handler400 = "wisdom.exceptions.json_bad_request"
handler403 = "wisdom.exceptions.json_permission_denied"
handler404 = "wisdom.exceptions.json_not_found"
handler500 = "wisdom.exceptions.json_server_error"
