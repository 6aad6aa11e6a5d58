"""The Django admin's site: its login form gets the failed-login limits of /auth/login, counted together; its
titles name the product, and "View site" opens the API docs."""

import math

from django.conf import settings
from django.contrib import admin
from django.template.response import TemplateResponse
from rest_framework.exceptions import Throttled

from accounts.services import login_failure_record, login_failures_check
from accounts.throttles import client_address


class AdminSite(admin.AdminSite):
    # wisdom serves no home page ("/" is a JSON 404): "View site" opens the API docs.
    site_url = "/api/docs"
    site_header = f"{settings.PRODUCT_NAME} admin"
    site_title = settings.PRODUCT_NAME

    def login(self, request, extra_context=None):
        if request.method != "POST":
            return super().login(request, extra_context)
        address, email = client_address(request), request.POST.get("username", "")
        try:
            login_failures_check(address=address, email=email)
        except Throttled as locked:
            return self._locked_out(request, wait=int(locked.wait))
        response = super().login(request, extra_context)
        # A success redirects; a form answered again after a check of both fields is a failed login.
        if response.status_code == 200 and email and request.POST.get("password"):
            login_failure_record(address=address, email=email)
        return response

    def _locked_out(self, request, *, wait: int) -> TemplateResponse:
        context = {**self.each_context(request), "title": "Too many failed logins", "minutes": math.ceil(wait / 60)}
        return TemplateResponse(
            request, "accounts/admin_login_locked.html", context, status=429, headers={"Retry-After": str(wait)}
        )
