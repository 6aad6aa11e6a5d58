from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """ModelBackend, by email in any case (the manager's get_by_natural_key matches Lower(email)).

    Its own class because Django insists the login field be `unique=True` when only the stock
    backend is configured; our uniqueness is the case-insensitive constraint on Lower(email).
    """
