from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """ModelBackend, by email in any spelling (the manager's get_by_natural_key matches User.email_key).

    Its own class because Django insists the login field be `unique=True` when only the stock
    backend is configured; our uniqueness is the constraint on email_key.
    """
