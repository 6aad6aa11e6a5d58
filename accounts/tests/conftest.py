import pytest
from django.core.cache import cache


@pytest.fixture
def small_login_limits(settings):
    """Failed-login limits small enough to reach: 3 per (address, email), 5 per address, in 10 minutes."""
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 5
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 600
    cache.clear()  # the test settings' in-process cache, shared by every test
    yield
    cache.clear()
