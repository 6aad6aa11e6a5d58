"""The development outbox page: every email queued lately, readable in a browser, links clickable (DEBUG only)."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from mail import selectors


@never_cache
@require_GET
def dev_mail(request: HttpRequest) -> HttpResponse:
    if not settings.DEBUG:
        raise Http404()  # it shows reset links: never outside development
    return render(request, "mail/dev_mail.html", {"emails": selectors.email_list_latest()})
