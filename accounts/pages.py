"""The reset link's page when no frontend serves it: a form for the new password, server-rendered.

Served only while FRONTEND_BASE_URL is empty, which is exactly when reset links point at wisdom itself (`make run`,
or a deployment without a web app); otherwise this path answers the same 404 as any path wisdom does not serve.
Opening the link (GET, as a mail scanner does) only reads; the password changes on the form's POST, through the
same service and per-address throttle as /auth/password-reset/confirm, behind Django's CSRF check.
"""

import math

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.throttles import PasswordResetIpThrottle, client_address
from wisdom.errors import NON_FIELD_ERRORS

TEMPLATE = "accounts/reset_password_page.html"
THROTTLED = "Too many requests from your address; try again later."
PASSWORD_MAX_LENGTH = 4096


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def reset_password_page(request: HttpRequest) -> HttpResponse:
    if settings.FRONTEND_BASE_URL:
        raise Http404()  # the frontend owns the reset link
    throttle = PasswordResetIpThrottle()
    if not throttle.allow_request(request, None):
        response = _render(request, problem=THROTTLED, status=429)
        response["Retry-After"] = str(math.ceil(throttle.wait() or 1))
        return response

    uid, token = request.GET.get("uid", ""), request.GET.get("token", "")
    user = services.password_reset_user(uid=uid, token=token)
    if user is None:
        return _render(request, problem=services.RESET_LINK_INVALID, status=400)
    if request.method == "GET":
        return _render(request, email=user.email, uid=uid, token=token)

    new_password = request.POST.get("new_password", "")[:PASSWORD_MAX_LENGTH]
    try:
        services.password_reset_confirm(
            uid=uid, token=token, new_password=new_password, address=client_address(request)
        )
    except DjangoValidationError as exc:
        errors = exc.message_dict
        if NON_FIELD_ERRORS in errors or "__all__" in errors:  # the link died between the look and the submit
            return _render(request, problem=services.RESET_LINK_INVALID, status=400)
        return _render(
            request, email=user.email, uid=uid, token=token, errors=errors.get("new_password", []), status=400
        )
    return _render(request, done_email=user.email, **log_in_next(request, user=user))


def log_in_next(request: HttpRequest, *, user) -> dict:
    """The context of accounts/log_in_next.html: the API's login for everyone, the admin's login page for staff
    (the one login a browser can open; /auth/login answers a browser's GET with 405)."""
    return {
        "is_staff": user.is_staff,
        "login_url": request.build_absolute_uri("/auth/login"),
        "admin_login_url": request.build_absolute_uri(reverse("admin:login")),
    }


def _render(request: HttpRequest, *, status: int = 200, **context) -> HttpResponse:
    return render(request, TEMPLATE, context, status=status)
