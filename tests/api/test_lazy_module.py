"""shared/api/lazy.py: a function's services imported by the first request that reads them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shared.api.lazy import lazy_module

ROOT = Path(__file__).resolve().parents[2]


def test_a_misspelt_module_fails_when_the_function_is_imported_not_on_a_request():
    with pytest.raises(ModuleNotFoundError, match="shared.publishing.servce"):
        lazy_module("shared.publishing.servce")


# Twelve threads read a model of a module nobody imported yet, all at once (a cold instance takes
# concurrent requests): each must get the class, none a half-executed module.
_CONCURRENT_FIRST_USE = """
import json, sys, threading
from shared.api.lazy import lazy_module
responses = lazy_module("shared.responses")
assert "shared.responses" not in sys.modules
start, found = threading.Barrier(12), []
def first_use():
    start.wait()
    try:
        found.append(responses.Health(ok=True, database="reachable").ok)
    except Exception as exc:
        found.append(repr(exc))
threads = [threading.Thread(target=first_use) for _ in range(12)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"found": found, "same": responses.Health is sys.modules["shared.responses"].Health}))
"""


def test_concurrent_first_uses_all_see_the_whole_module():
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", _CONCURRENT_FIRST_USE], cwd=ROOT, capture_output=True,
                              text=True, check=True)
        assert json.loads(done.stdout) == {"found": [True] * 12, "same": True}
