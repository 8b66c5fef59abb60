"""The response models moved to shared/responses.py (below the services that return them).

Kept so that an import of the old place still works while branches written before the move merge.
"""

from shared.responses import *  # noqa: F403
