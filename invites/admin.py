"""Staff's invite desk: issue, find, share, revoke and extend invites.

Actions call services; the add and change forms save through the model form, whose Invite.clean holds
the same rules as invite_create.
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from invites import services
from invites.models import Invite, InviteRedemption, InviteStatus


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return InviteStatus.choices

    def queryset(self, request, queryset):
        return queryset.with_status(self.value()) if self.value() else queryset


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
    list_display = ("__str__", "status_label", "uses", "email", "note", "inviter", "expires_at", "created_at")
    list_filter = (StatusFilter,)
    search_fields = ("email", "note", "=token")
    list_select_related = ("inviter",)
    readonly_fields = ("id", "share_url_field", "status_label", "use_count", "inviter", "created_at", "revoked_at")
    add_fields = ("email", "note", "expires_at", "max_uses")
    inlines = (RedemptionInline,)
    actions = ("revoke_selected", "extend_expiry")
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

    @admin.action(description="Revoke selected invites")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[Invite]) -> None:
        count = 0
        for invite in queryset:
            services.invite_revoke(invite=invite)
            count += 1
        self.message_user(request, f"Revoked {count} invite(s).", messages.SUCCESS)

    @admin.action(description="Extend expiry by 7 days")
    def extend_expiry(self, request: HttpRequest, queryset: QuerySet[Invite]) -> None:
        extended = never = 0
        for invite in queryset:
            if invite.expires_at is None:
                never += 1
                continue
            services.invite_extend(invite=invite)
            extended += 1
        message = f"Extended {extended} invite(s) by 7 days."
        if never:
            message += f" {never} never expire and were left alone."
        self.message_user(request, message, messages.SUCCESS)
