"""The share link's page when no frontend serves it: the invite's preview and a signup form, server-rendered.

Served only while FRONTEND_BASE_URL is empty, which is exactly when share links point at wisdom itself
(`make run`, or a deployment without a web app); with a frontend configured this path answers the same 404
as any path wisdom does not serve. It opens nothing the public API does not: the same services, the same
per-IP throttle (one budget shared with /invites/{token}/preview and /redeem), and Django's CSRF check.
"""

import math

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from accounts.pages import log_in_next
from accounts.services import EmailTaken
from invites import services
from invites.errors import InviteGone, InviteNotFound
from invites.models import Invite, InviteStatus
from invites.serializers import RedeemSerializer
from invites.throttles import InvitesIpThrottle
from wisdom.errors import NON_FIELD_ERRORS, field_errors

TEMPLATE = "invites/invite_page.html"
THROTTLED = "Too many requests from your address; try again in a minute."
# (name, label, input type, autocomplete); the password is never written back into the page.
FIELDS = (
    ("email", "Email", "email", "email"),
    ("password", "Password", "password", "new-password"),
    ("first_name", "First name", "text", "given-name"),
    ("last_name", "Last name (optional)", "text", "family-name"),
)


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def invite_page(request: HttpRequest) -> HttpResponse:
    if settings.FRONTEND_BASE_URL:
        raise Http404()  # the frontend owns the share link
    throttle = InvitesIpThrottle()
    if not throttle.allow_request(request, None):
        response = _problem(request, "Please slow down", THROTTLED, status=429)
        response["Retry-After"] = str(math.ceil(throttle.wait() or 1))
        return response

    token = request.GET.get("token", "")
    try:
        invite = services.invite_get_open(token=token)
    except (InviteNotFound, InviteGone) as exc:
        return _problem(request, "This invite cannot be used", str(exc.detail), status=exc.status_code)
    if request.method == "GET":
        return _form(request, invite=invite, token=token, values={"email": invite.email})

    values = {name: request.POST.get(name, "") for name, *_ in FIELDS if name != "password"}
    # the form's own fields: the CSRF token is the page's, not the signup's
    signup = RedeemSerializer(data={name: request.POST[name] for name, *_ in FIELDS if name in request.POST})
    if not signup.is_valid():
        return _form(request, invite=invite, token=token, values=values, errors=field_errors(signup.errors), status=400)
    try:
        user = services.invite_redeem(token=token, **signup.validated_data)
    except DjangoValidationError as exc:
        errors = {NON_FIELD_ERRORS if f == "__all__" else f: m for f, m in exc.message_dict.items()}
        return _form(request, invite=invite, token=token, values=values, errors=errors, status=400)
    except EmailTaken as exc:
        return _form(
            request, invite=invite, token=token, values=values, errors={"email": [str(exc.detail)]}, status=409
        )
    except (InviteNotFound, InviteGone) as exc:  # spent by someone else between the look and the submit
        return _problem(request, "This invite cannot be used", str(exc.detail), status=exc.status_code)
    context = {"created_email": user.email, **log_in_next(request, user=user)}
    return render(request, TEMPLATE, context, status=201)


def _form(
    request: HttpRequest,
    *,
    invite: Invite,
    token: str,
    values: dict[str, str],
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    errors = errors or {}
    fields = [
        {
            "name": name,
            "label": label,
            "type": input_type,
            "autocomplete": autocomplete,
            "value": values.get(name, ""),
            "required": name in ("password", "first_name") or (name == "email" and not invite.email),
            "errors": errors.get(name, []),
        }
        for name, label, input_type, autocomplete in FIELDS
    ]
    context = {
        "invite": invite,
        "token": token,
        "status_label": InviteStatus(invite.status).label,
        "uses_left": invite.max_uses - invite.use_count,
        "fields": fields,
        "form_errors": errors.get(NON_FIELD_ERRORS, []),
    }
    return render(request, TEMPLATE, context, status=status)


def _problem(request: HttpRequest, title: str, message: str, *, status: int) -> HttpResponse:
    return render(request, TEMPLATE, {"problem_title": title, "problem": message}, status=status)
