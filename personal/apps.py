from django.apps import AppConfig


class PersonalConfig(AppConfig):
    name = "personal"
    default_auto_field = "django.db.models.BigAutoField"
