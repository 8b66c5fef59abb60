"""The signed-in user's own settings: the /me routes of shared/api/routes.py.

GET   /notifications    which mails the user gets, per kind: all, failures or none
PATCH /notifications    {"publishing"?, "connections"?, "webhooks"?} change them
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.api.dispatch import dispatch
from shared.api.lazy import lazy_module
from shared.app import application

if TYPE_CHECKING:
    from shared.notify import preferences
else:
    preferences = lazy_module("shared.notify.preferences")  # cold start: imported by the first request

me = dispatch("me", {
    "GET /me/notifications": lambda call: preferences.read(application().database, call.user.claims),
    "PATCH /me/notifications": lambda call: preferences.update(
        application().database, call.user.claims, call.body(preferences.PreferencesUpdate)),
})
