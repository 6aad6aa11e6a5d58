import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wisdom.settings")

# gunicorn's "App failed to load" code: its master stops instead of respawning workers that cannot start.
APP_LOAD_ERROR = 4

try:
    application = get_wsgi_application()
except ImproperlyConfigured as e:
    print(f"wisdom: {e}", file=sys.stderr)
    sys.exit(APP_LOAD_ERROR)

# A serving process builds its agents client now (gunicorn loads this module in each worker, after the fork): its
# TLS context's certificates take about 100 ms to load, which the worker's first chat would otherwise wait for.
from personal.client import agents_client  # noqa: E402 - once Django's apps are loaded

agents_client()
