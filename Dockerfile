# One image for web, worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core curl \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 retaguarda
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backoffice ./backoffice
COPY inventory ./inventory
COPY crm ./crm
COPY orders ./orders
COPY logistics ./logistics
COPY finance ./finance
COPY templates ./templates
COPY manage.py ./
RUN pip install --no-cache-dir . \
 && DJANGO_SECRET_KEY=build-only python manage.py compile_translations \
 && mkdir -p /app/var && chown -R retaguarda /app/var
USER retaguarda
ENV DJANGO_SETTINGS_MODULE=backoffice.settings RETAGUARDA_VAR_DIR=/app/var
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "backoffice.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
