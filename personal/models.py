"""The only state wisdom keeps about entities: creates in flight, so a plan's quota holds while upstream is slow."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Now


class EntityReservation(models.Model):
    """One create in flight, then briefly one just made: it counts against the user's entity quota.

    Taken in a short transaction before any upstream call and ended after it, so no request holds a
    database connection or a row lock while the agents service thinks. `expires_at` frees the place
    on its own if the worker dies mid-create.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(db_default=Now())
    finished_at = models.DateTimeField(null=True, blank=True, help_text="Set when the create succeeded upstream.")
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"], name="personal_reservation_user_idx")]

    def __str__(self) -> str:
        return f"create by {self.user_id} at {self.created_at:%Y-%m-%d %H:%M:%S}"
