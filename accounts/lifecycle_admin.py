"""Staff see account deletions and data exports (state, attempts, last error; never a document or a secret) and
retry a failed one. Rows are made by people's requests and changed by the worker, so nothing is edited here."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import AccountDeletion, DataExport
from accounts.services.deletion import account_deletion_retry
from accounts.services.export import data_export_retry

JOB_FIELDS = ("attempts", "next_attempt_at", "claimed_until", "last_error", "updated_at")


class ReadOnlyJobAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the worker changes them; staff retry through the action

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AccountDeletion)
class AccountDeletionAdmin(ReadOnlyJobAdmin):
    list_display = (
        "subject_id",
        "user",
        "state",
        "step",
        "entities_deleted",
        "attempts",
        "requested_at",
        "completed_at",
    )
    list_filter = ("state", "step", "requested_at")
    list_select_related = ("user",)
    search_fields = ("=subject_id", "user__email")
    fields = (
        "id",
        "subject_id",
        "user",
        "state",
        "step",
        "entities_deleted",
        "requested_at",
        "completed_at",
        *JOB_FIELDS,
    )
    readonly_fields = fields
    actions = ("retry_selected",)
    ordering = ("-requested_at",)

    @admin.action(description="Retry selected failed deletions", permissions=["view"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[AccountDeletion]) -> None:
        count = sum(1 for deletion in queryset if account_deletion_retry(deletion=deletion))
        self.message_user(request, f"{count} deletion(s) queued again.", messages.SUCCESS)


@admin.register(DataExport)
class DataExportAdmin(ReadOnlyJobAdmin):
    list_display = ("id", "user", "status", "attempts", "document_bytes", "created_at", "completed_at", "expires_at")
    list_filter = ("status", "created_at")
    list_select_related = ("user",)
    search_fields = ("=id", "user__email")
    fields = ("id", "user", "status", "document_bytes", "created_at", "completed_at", "expires_at", *JOB_FIELDS)
    readonly_fields = fields
    actions = ("retry_selected",)
    ordering = ("-created_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[DataExport]:
        return super().get_queryset(request).defer("document")  # a person's data is not the staff's to read

    @admin.action(description="Retry selected failed exports", permissions=["view"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[DataExport]) -> None:
        count = sum(1 for export in queryset if data_export_retry(export=export))
        self.message_user(request, f"{count} export(s) queued again.", messages.SUCCESS)
