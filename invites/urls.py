from django.urls import path

from invites import pages, views

# No trailing slashes: wisdom.middleware.TrailingSlashMiddleware drops one before resolution.
urlpatterns = [
    path("invites", views.InviteListCreateView.as_view(), name="invites"),
    path("invites/<uuid:id>", views.InviteDetailView.as_view(), name="invite-detail"),
    path("invites/<uuid:id>/send", views.InviteSendView.as_view(), name="invite-send"),
    path("invites/<str:token>/preview", views.InvitePreviewView.as_view(), name="invite-preview"),
    path("invites/<str:token>/redeem", views.InviteRedeemView.as_view(), name="invite-redeem"),
    # Where share links lead when no frontend is configured (FRONTEND_BASE_URL empty); see invites/pages.py.
    path("personal/invite", pages.invite_page, name="invite-page"),
]
