# wisdom: production image. Migrations are a separate step (see README), not run at start.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# collectstatic needs settings to load; these values exist only for this build step.
RUN DJANGO_SECRET_KEY=build-only-not-a-secret-0123456789abcdef INTUNO_AGENTS_API_KEY=build-only DJANGO_DEBUG=false \
    WISDOM_EMBEDDED_STORES=true \
    python manage.py collectstatic --noinput \
 && useradd --system --uid 10001 --home /app wisdom \
 && chown -R wisdom /app

USER wisdom
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"

CMD ["gunicorn", "-c", "gunicorn.conf.py", "wisdom.wsgi:application"]
