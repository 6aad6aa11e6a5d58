from django.urls import path

from accounts import lifecycle_views, pages, views

urlpatterns = [
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all", views.LogoutAllView.as_view(), name="auth-logout-all"),
    path("auth/me", views.MeView.as_view(), name="auth-me"),
    path("auth/password", views.PasswordChangeView.as_view(), name="auth-password"),
    path("auth/password-reset", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path("auth/password-reset/confirm", views.PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"),
    path("auth/api-keys", views.ApiKeyListCreateView.as_view(), name="auth-api-keys"),
    path("auth/api-keys/<uuid:id>", views.ApiKeyDetailView.as_view(), name="auth-api-key"),
    path("auth/delete-account", lifecycle_views.DeleteAccountView.as_view(), name="auth-delete-account"),
    path("auth/me/exports", lifecycle_views.ExportListCreateView.as_view(), name="auth-me-exports"),
    path(
        "auth/me/exports/<uuid:id>/download",
        lifecycle_views.ExportDownloadView.as_view(),
        name="auth-me-export-download",
    ),
    # Where reset links lead when no frontend is configured (FRONTEND_BASE_URL empty); see accounts/pages.py.
    path("personal/reset-password", pages.reset_password_page, name="reset-password-page"),
]
