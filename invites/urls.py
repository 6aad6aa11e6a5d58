from django.urls import path

from invites import views

# No trailing slashes: wisdom.middleware.TrailingSlashMiddleware drops one before resolution.
urlpatterns = [
    path("invites", views.InviteListCreateView.as_view(), name="invites"),
    path("invites/<uuid:id>", views.InviteDetailView.as_view(), name="invite-detail"),
    path("invites/<str:token>/preview", views.InvitePreviewView.as_view(), name="invite-preview"),
    path("invites/<str:token>/redeem", views.InviteRedeemView.as_view(), name="invite-redeem"),
]
