from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin, served by accounts.admin_site.AdminSite (failed-login limits on its login)."""

    default_site = "accounts.admin_site.AdminSite"
