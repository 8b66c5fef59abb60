"""One publish step in a process of its own, so a test can SIGKILL it mid-call.

    python -m tests.pipeline.kill_worker <target_id> <seq> <clock iso time>

Builds the real runtime from the environment the test hands over: DATABASE_URL of the
test database, the sandbox base URLs and app credentials, TOKEN_VAULT_KEYS, and the
local storage (LOCAL_STORAGE_DIR, LOCAL_STORAGE_URL, LOCAL_STORAGE_SIGNING_KEY). The
clock is frozen at the test's clock time; tasks it would enqueue are printed, not sent.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from typing import Any


class PrintingQueue:
    def enqueue(self, *, queue: str, task_id: str, url: str, payload: dict[str, Any],
                delay_seconds: float = 0.0) -> bool:
        print(json.dumps({"enqueued": payload, "delay_seconds": delay_seconds}), flush=True)
        return True


def main(argv: list[str]) -> int:
    from shared.app import bootstrap, install
    from shared.db import Database
    from shared.publishing.worker import advance
    from shared.storage.local import LocalStorage
    from shared.wiring import build_runtime

    target_id, seq, now = argv[0], int(argv[1]), datetime.fromisoformat(argv[2])
    db = Database(os.environ["DATABASE_URL"], min_size=1, max_size=2)
    storage = LocalStorage(os.environ["LOCAL_STORAGE_DIR"], bucket="videos",
                           signing_key=os.environ["LOCAL_STORAGE_SIGNING_KEY"].encode(),
                           base_url=os.environ["LOCAL_STORAGE_URL"])
    app = bootstrap(database=db, storage=storage, queue=PrintingQueue(), clock=lambda: now)
    install(app)
    rt = build_runtime(app, lease_seconds=600)
    print(json.dumps({"started": target_id}), flush=True)
    outcome = advance(rt, target_id, seq)
    print(json.dumps({"outcome": outcome}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
