"""GET /platforms (signed in): every platform and integration with what a composer needs.

Limits and how characters are counted, media rules, the options model as JSON Schema,
how to connect, the user's accounts with their budgets left, and for TikTok the
creator's current privacy choices. Built by shared/api/catalog.py from the same
declarations the publish request is checked against.
"""

from shared.api.catalog import platform_catalog
from shared.api.dispatch import dispatch
from shared.app import application

platforms = dispatch("platforms", {"GET /platforms": lambda call: platform_catalog(application().runtime, call.user)})
