"""Staff's invite desk: issue, find, share, revoke and extend invites.

Actions call services; the add and change forms save through the model form, whose Invite.clean holds
the same rules as invite_create.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from invites import services
from invites.errors import InviteNotSendable, InviteSentRecently
from invites.models import MAX_EXPIRES_IN_DAYS, Invite, InviteRedemption, InviteStatus


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return InviteStatus.choices

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value not in InviteStatus.values:
            # the admin's own answer to a bad filter: a redirect to the changelist with ?e=1
            raise IncorrectLookupParameters(f"Unknown status {value!r}.")
        return queryset.with_status(value)


class RedemptionInline(admin.TabularInline):
    model = InviteRedemption
    fields = ("user", "email", "redeemed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    # What fits beside the filter at 1280 px: the email (else the note) as the link, then what staff scan for;
    # the inviter and creation time are on each invite's page (and the dates above the list filter by creation).
    list_display = ("__str__", "note", "status_label", "uses", "expires", "last_sent")
    list_filter = (StatusFilter,)
    search_fields = ("email", "note", "=token")
    list_select_related = ("inviter", "last_email")
    readonly_fields = (
        "id",
        "share_url_field",
        "status_label",
        "use_count",
        "inviter",
        "created_at",
        "revoked_at",
        "last_sent",
    )
    add_fields = ("email", "note", "expires_at", "max_uses")
    inlines = (RedemptionInline,)
    actions = ("send_email", "revoke_selected", "extend_expiry")
    date_hierarchy = "created_at"

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.add_fields  # the token is generated, the inviter is whoever adds it
        return (
            "id",
            "share_url_field",
            "status_label",
            *self.add_fields,
            "use_count",
            "inviter",
            "created_at",
            "revoked_at",
            "last_sent",
        )

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def save_model(self, request, obj: Invite, form, change: bool) -> None:
        if not change:
            obj.inviter = request.user
            obj.save()
        elif form.changed_data:
            # Only what the form changed: a redeem or revoke landing meanwhile keeps its use_count or revoked_at.
            obj.save(update_fields=form.changed_data)

    def get_search_results(self, request, queryset, search_term):
        # PostgreSQL refuses NUL in text parameters; such a term matches nothing anyway.
        return super().get_search_results(request, queryset, search_term.replace("\x00", ""))

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # invites stay on record; revoke instead

    @admin.display(description="status")
    def status_label(self, obj: Invite) -> str:
        return InviteStatus(obj.status).label

    @admin.display(description="uses")
    def uses(self, obj: Invite) -> str:
        return f"{obj.use_count} / {obj.max_uses}"

    @admin.display(description="share URL")
    def share_url_field(self, obj: Invite) -> str:
        return format_html(
            '<input type="text" id="invite-share-url" readonly size="90" value="{}" onfocus="this.select()">',
            obj.share_url,
        )

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, obj: Invite) -> str:
        return "never" if obj.expires_at is None else f"{obj.expires_at:%Y-%m-%d %H:%M}"

    @admin.display(description="last sent", ordering="last_sent_at")
    def last_sent(self, obj: Invite) -> str:
        """When its email was queued, and where that email is now (queued, sent, failed after retries)."""
        if obj.last_sent_at is None:
            return "never"
        when = f"{obj.last_sent_at:%Y-%m-%d %H:%M} UTC"
        if obj.last_email is None:
            return when
        return f"{when} ({obj.last_email.get_status_display()})"

    @admin.action(description="Send invite email", permissions=["change"])
    def send_email(self, request: HttpRequest, queryset: QuerySet[Invite]) -> None:
        sent, recently, unsendable = [], [], []
        for invite in queryset:
            try:
                services.invite_email_send(invite=invite)
            except InviteSentRecently:
                recently.append(invite)
            except InviteNotSendable as exc:
                unsendable.append(f"{invite}: {exc.detail}")
            else:
                sent.append(invite)
        message = f"Queued {len(sent)} invite email(s); the mail worker sends them."
        if recently:
            message += (
                f" {len(recently)} were sent less than {settings.INVITE_RESEND_INTERVAL_SECONDS} seconds ago"
                " and were left alone."
            )
        if unsendable:
            message += " Not sent: " + "; ".join(unsendable)
        self.message_user(request, message, messages.SUCCESS if not (recently or unsendable) else messages.WARNING)

    @admin.action(description="Revoke selected invites")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[Invite]) -> None:
        count = 0
        for invite in queryset:
            services.invite_revoke(invite=invite)
            count += 1
        self.message_user(request, f"Revoked {count} invite(s).", messages.SUCCESS)

    @admin.action(description="Extend expiry by 7 days")
    def extend_expiry(self, request: HttpRequest, queryset: QuerySet[Invite]) -> None:
        extended = capped = at_maximum = never = 0
        for invite in queryset:
            before = invite.expires_at
            if before is None:
                never += 1
                continue
            after = services.invite_extend(invite=invite).expires_at
            if after == before:
                at_maximum += 1
            elif after - before < services.EXTEND_BY:
                capped += 1
            else:
                extended += 1
        message = f"Extended {extended} invite(s) by 7 days."
        if capped:
            message += f" {capped} reached the maximum, {MAX_EXPIRES_IN_DAYS} days from now, and stop there."
        if at_maximum:
            message += f" {at_maximum} already expire {MAX_EXPIRES_IN_DAYS} days or more from now and were left alone."
        if never:
            message += f" {never} never expire and were left alone."
        level = messages.SUCCESS if not (capped or at_maximum) else messages.WARNING
        self.message_user(request, message, level)
