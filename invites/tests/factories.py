from datetime import timedelta

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from invites.models import Invite, InviteRedemption


class InviteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invite

    email = ""
    note = factory.Sequence(lambda n: f"invite {n}")
    inviter = factory.SubFactory(UserFactory, is_staff=True, first_name="Stella")
    max_uses = 1
    use_count = 0
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))

    class Params:
        expired = factory.Trait(expires_at=factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1)))
        revoked = factory.Trait(revoked_at=factory.LazyFunction(timezone.now))
        used_up = factory.Trait(use_count=factory.SelfAttribute("max_uses"))


class InviteRedemptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InviteRedemption

    invite = factory.SubFactory(InviteFactory)
    user = factory.SubFactory(UserFactory)
    email = factory.SelfAttribute("user.email")
