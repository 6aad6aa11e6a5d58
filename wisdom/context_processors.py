"""What every server-rendered page may name: the product (page titles, headings)."""

from django.conf import settings
from django.http import HttpRequest


def product(request: HttpRequest) -> dict[str, str]:
    return {"product_name": settings.PRODUCT_NAME}
