from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from personal import views

router = SimpleRouter(trailing_slash="")
router.register("personal/entities", views.EntityViewSet, basename="entity")

urlpatterns = [
    *router.urls,
    path("personal/usage", views.UsageView.as_view(), name="usage"),
    # Last: only what no route above serves, so an encoded slash in a name is a 400, not a 404.
    re_path(r"^personal/entities/[^/]+/.+$", views.EntitySubpathView.as_view(), name="entity-subpath"),
]
