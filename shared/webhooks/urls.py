"""Endpoint URLs must not reach our own network: the SSRF rules of URL imports, applied to webhooks.

Checked when an endpoint is registered and again before every delivery (a name may
resolve elsewhere later); the delivery connects to the address that was checked.
Outside local mode only https:// and public addresses are allowed.
"""

from __future__ import annotations

import ipaddress

from shared.media.url_import import Hop, ImportRefused, Resolver, UrlPolicy, check_url, system_resolver
from shared.webhooks.settings import webhook_settings

_EVERYWHERE = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))
MAX_URL_LENGTH = 2000


class EndpointUrlRefused(ValueError):
    """The URL can't receive webhooks; `message` is for the user, `reason` for the log."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


def endpoint_policy() -> UrlPolicy:
    private = webhook_settings().private_urls_allowed
    # Metadata host names stay refused even locally (UrlPolicy.blocked_names).
    return UrlPolicy(allow_http=private, allowed_networks=_EVERYWHERE if private else ())


def check_endpoint_url(url: str, *, resolver: Resolver = system_resolver) -> Hop:
    if len(url) > MAX_URL_LENGTH:
        raise EndpointUrlRefused(f"That address is longer than {MAX_URL_LENGTH} characters.", "url too long")
    try:
        return check_url(url, endpoint_policy(), resolver)
    except ImportRefused as exc:
        if exc.reason.startswith("scheme"):
            message = "Webhook addresses must start with https://."
        elif exc.reason.startswith(("dns failed", "no address")):
            message = "We couldn't find the server in that address. Please check it."
        elif exc.reason.startswith("no host"):
            message = "That is not a valid web address."
        else:
            message = ("Webhooks can only be sent to public internet addresses, not to private, local or "
                       "cloud metadata addresses.")
        raise EndpointUrlRefused(message, exc.reason) from None
