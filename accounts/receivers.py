"""What accounts does when other apps signal (mail.signals.outbox_filling)."""

from django.dispatch import receiver

from accounts.services import password_reset_asks_process
from mail.signals import outbox_filling


@receiver(outbox_filling, dispatch_uid="accounts.password_reset_asks_process")
def reset_asks_to_email(**kwargs) -> None:
    password_reset_asks_process()
