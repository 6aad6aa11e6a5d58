from post_office.models import Email

LATEST = 50


def email_list_latest(*, limit: int = LATEST) -> list[Email]:
    return list(Email.objects.order_by("-pk")[:limit])
