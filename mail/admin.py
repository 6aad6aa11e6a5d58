"""django-post-office's admin for the outbox (every email, each attempt with its error), with its two sending
paths routed through the worker: "Resend" and "Requeue" queue the email again instead of sending from the
web process, which has no mail settings and must never wait on a mail server."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from post_office.admin import EmailAdmin
from post_office.models import Email

from mail import services

admin.site.unregister(Email)


@admin.register(Email)
class OutboxEmailAdmin(EmailAdmin):
    actions = ["requeue_selected"]

    @admin.action(description="Send selected emails again (queued for the mail worker)", permissions=["change"])
    def requeue_selected(self, request: HttpRequest, queryset: QuerySet[Email]) -> None:
        count = services.outbox_requeue(email_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Queued {count} email(s) again; the mail worker sends them.", messages.SUCCESS)

    def resend(self, request: HttpRequest, pk):
        instance = self._get_object_or_deny(request, pk, "change")
        services.outbox_requeue(email_ids=[instance.pk])
        self.message_user(request, "Queued again; the mail worker sends it.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:post_office_email_change", args=[instance.pk]))
