"""shortpub: the library every Cloud Function imports."""

import sys

# Cold starts: httpx loads its command-line client (click, rich, pygments: ~30 ms and a few MB
# in every function) at import time unless that module is unavailable; the backend never runs it.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
