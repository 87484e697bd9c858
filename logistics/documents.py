"""Pick lists and packing slips as PDF (WeasyPrint).

WeasyPrint is imported inside the functions: the embedded mode starts without it. Text
comes through Django templates (autoescaped), and the URL fetcher refuses everything but
``data:`` URIs and files under the project's static directories, so a product named
``<img src=http://x>`` is printed as text and nothing is ever fetched from the network.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from logistics.selectors import pick_list, shipment_document_queryset


def _local_roots() -> list[Path]:
    roots = [Path(settings.BASE_DIR) / "static", Path(settings.BASE_DIR) / "templates"]
    if getattr(settings, "STATIC_ROOT", None):
        roots.append(Path(settings.STATIC_ROOT))
    return [r.resolve() for r in roots]


def url_allowed(url: str) -> bool:
    """Only inline data and local static files: never the network."""
    lowered = url.strip().lower()
    if lowered.startswith("data:"):
        return True
    if lowered.startswith("file:"):
        from urllib.request import url2pathname

        path = Path(url2pathname(url.split("?")[0][len("file:") :])).resolve()
        return any(path.is_relative_to(root) for root in _local_roots())
    return False


@functools.cache
def safe_url_fetcher_class() -> type:
    """A weasyprint URLFetcher subclass that refuses non-data/non-local URLs (built on
    demand so this module imports without WeasyPrint)."""
    from weasyprint.urls import URLFetcher

    class SafeURLFetcher(URLFetcher):
        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("allow_redirects", False)
            kwargs.setdefault("allowed_protocols", ["data", "file"])
            super().__init__(**kwargs)

        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url_allowed(url):
                raise ValueError(f"refused to fetch {url[:80]!r}: only data: and local files")
            return super().fetch(url, headers)

    return SafeURLFetcher


def render_pdf(template: str, context: dict[str, Any], *, url_fetcher: Any = None) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, context)
    fetcher = url_fetcher if url_fetcher is not None else safe_url_fetcher_class()()
    base_url = (Path(settings.BASE_DIR) / "templates").as_uri() + "/"
    return HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()


def _common() -> dict[str, Any]:
    return {"store_name": getattr(settings, "STORE_NAME", ""), "generated_at": timezone.now()}


def pick_list_pdf(*, shipment_ids: list[int], url_fetcher: Any = None) -> bytes:
    """One section per (warehouse, wave): SKUs and units to pick, and where they go."""
    context = {**_common(), "groups": pick_list(shipment_ids=shipment_ids)}
    return render_pdf("logistics/pick_list.html", context, url_fetcher=url_fetcher)


def packing_slips_pdf(*, shipment_ids: list[int], url_fetcher: Any = None) -> bytes:
    """One page per shipment: recipient, lines, parcels."""
    context = {**_common(), "shipments": list(shipment_document_queryset(shipment_ids))}
    return render_pdf("logistics/packing_slip.html", context, url_fetcher=url_fetcher)
