"""Platform adapters: one per store platform, found by ``get_adapter(channel.platform)``."""

from __future__ import annotations

from orders.adapters._common import WebhookAdapter
from orders.adapters.generic import GenericAdapter
from orders.adapters.nuvemshop import NuvemshopAdapter
from orders.adapters.shopify import ShopifyAdapter
from orders.adapters.woocommerce import WooCommerceAdapter

# Adapters hold no state: one instance per platform serves every request.
_ADAPTERS: dict[str, WebhookAdapter] = {
    a.platform: a
    for a in (GenericAdapter(), ShopifyAdapter(), WooCommerceAdapter(), NuvemshopAdapter())
}


class UnsupportedPlatform(LookupError):
    pass


def get_adapter(platform: str) -> WebhookAdapter:
    try:
        return _ADAPTERS[platform]
    except KeyError:
        raise UnsupportedPlatform(f"no webhook adapter for platform {platform!r}") from None


__all__ = ["UnsupportedPlatform", "WebhookAdapter", "get_adapter"]
