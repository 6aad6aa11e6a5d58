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
