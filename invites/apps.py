from django.apps import AppConfig


class InvitesConfig(AppConfig):
    name = "invites"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from invites import receivers  # noqa: F401  (connects them)
