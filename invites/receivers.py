"""What invites does when an account is deleted (accounts.signals.account_purging)."""

from django.dispatch import receiver

from accounts.signals import account_purging
from invites.models import InviteRedemption


@receiver(account_purging, dispatch_uid="invites.redemptions_forget_user")
def redemptions_forget_user(*, user, **kwargs) -> None:
    """The redemption stays (the invite's use count counts it) but no longer names the person."""
    InviteRedemption.objects.filter(user=user).update(user=None, email="")
