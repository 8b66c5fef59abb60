"""GET /platforms (signed in): every platform and integration with what a composer needs.

Limits and how characters are counted, media rules, the options model as JSON Schema,
how to connect, the user's accounts with their budgets left, and for TikTok the
creator's current privacy choices. Built by shared/api/catalog.py from the same
declarations the publish request is checked against.
"""

from typing import TYPE_CHECKING

from shared.api.dispatch import dispatch
from shared.api.lazy import lazy_module
from shared.app import application

if TYPE_CHECKING:
    from shared.api import catalog
else:
    catalog = lazy_module("shared.api.catalog")  # cold start: imported by the first request

platforms = dispatch("platforms", {
    "GET /platforms": lambda call: catalog.platform_catalog(application().runtime, call.user),
})
