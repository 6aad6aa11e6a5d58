"""Fixtures of the personal app's tests."""

import pytest


@pytest.fixture
def connection_kept_open(monkeypatch):
    """Several streams stay open at once here: closing one must not close the test's database connection
    (the test client reconnects Django's close_old_connections whenever it closes a streamed response)."""
    import django.test.client
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    monkeypatch.setattr(django.test.client, "close_old_connections", lambda **kwargs: None)
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)
