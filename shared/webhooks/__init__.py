"""Webhooks: endpoints users register, events from the outbox, signed deliveries with retries.

- `events`: the event types and the JSON each one sends.
- `endpoints`: register, list, disable and delete endpoints (the signing secret is shown once).
- `urls`: the SSRF rules an endpoint URL must pass (shared with URL imports).
- `delivery`: fan-out of outbox events into deliveries, one attempt per Cloud Tasks task,
  retries over about a day, disabling endpoints that keep failing.
"""

from shared.webhooks.events import EVENT_TYPES

__all__ = ["EVENT_TYPES"]
