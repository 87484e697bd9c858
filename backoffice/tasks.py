from celery import shared_task


@shared_task(name="backoffice.ping")
def ping_task(echo: str = "pong") -> str:
    """Round-trip check used by the health endpoint and the worker integration test."""
    return echo
