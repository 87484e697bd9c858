import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

app = Celery("retaguarda")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Celery's Django fix-up closes every database connection before and after each task unless
# CELERY_DB_REUSE_MAX is set -- a key it reads without the namespace, so settings.py cannot
# set it. Closing costs a new PostgreSQL connection (and server process) per task, which
# was most of the time of a notification send. Let the fix-up keep connections and apply
# Django's own rules around each task instead, as a web request does: CONN_MAX_AGE, the
# CONN_HEALTH_CHECKS ping, and closing a connection that saw an error and is unusable.
app.conf.CELERY_DB_REUSE_MAX = 2**31


@task_prerun.connect
@task_postrun.connect
def _db_connections_tidy(sender: Any = None, task: Any = None, **kwargs: Any) -> None:
    request = getattr(task or sender, "request", None)
    if getattr(request, "is_eager", False):
        return  # in-process (embedded mode, tests): the caller owns the connection
    from django.db import close_old_connections

    close_old_connections()
