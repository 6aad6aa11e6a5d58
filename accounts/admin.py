from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework_api_key.models import APIKey as LibraryApiKey

from accounts import services
from accounts.models import ApiKey, User


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    list_display = ("email", "first_name", "last_name", "plan", "is_active", "is_staff", "date_joined")
    list_filter = ("plan", "is_active", "is_staff", "is_superuser")
    list_editable = ("plan",)
    search_fields = ("email", "first_name", "last_name")
    ordering = ("email",)
    readonly_fields = ("id", "date_joined", "updated_at", "last_login")
    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        ("Profile", {"fields": ("first_name", "last_name", "plan")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("date_joined", "updated_at", "last_login")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "plan", "password1", "password2")}),)


# djangorestframework-api-key registers its own (unused) APIKey model; people's keys are ApiKey, below.
if admin.site.is_registered(LibraryApiKey):
    admin.site.unregister(LibraryApiKey)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Staff see every user's keys (never a secret: only its hash is stored) and revoke them. Keys are made by
    their owners (POST /auth/api-keys), and kept when revoked, so nothing is added or deleted here."""

    list_display = ("prefix", "name", "user", "created", "last_used_at", "expiry_date", "revoked_at")
    list_filter = ("revoked", "created")
    list_select_related = ("user",)
    search_fields = ("prefix", "name", "user__email")
    fields = ("id", "prefix", "name", "user", "created", "last_used_at", "expiry_date", "revoked", "revoked_at")
    readonly_fields = fields  # revoking is the action
    actions = ("revoke_selected",)
    ordering = ("-created",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = sum(1 for api_key in queryset if services.api_key_revoke(user=api_key.user, key_id=api_key.pk))
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)


from accounts import lifecycle_admin  # noqa: E402, F401  (registers deletions and exports)
