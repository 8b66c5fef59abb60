"""Schema-driven fuzzing of every operation in openapi.json, signed in, stateful along the document's links
(upload or list → publish → status → edit → cancel), against the functions server over real HTTP.

Passes only with 0 server errors, 0 answers that break the document, 0 invalid requests accepted and no
answer slower than 5 s. `make test` runs a bounded pass (FUZZ_SECONDS, default 90 s); `make fuzz` a long one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.api.conftest import connect_account
from tests.support.cloud_stack import StackClient

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
          "negative_data_rejection")
MAX_RESPONSE_S = 5
# Schemathesis' own list of what rejecting a request may look like, with 414 (address too long) added.
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "414", "415", "422", "428", "429", "5XX"]


def _fuzz(stack, client: StackClient, tmp_path: Path, seconds: int, phases: str, *selection: str) -> str:
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(ROOT / "openapi.json"), "--url", stack.functions_url,
        "-H", f"Authorization: {client.api.headers['Authorization']}",
        "--checks", CHECKS, "--max-response-time", str(MAX_RESPONSE_S), "--max-time", str(seconds),
        "--phases", phases, "--workers", "1", "--seed", "1",
        "--max-examples", os.environ.get("FUZZ_EXAMPLES", "25"), "--request-timeout", "20",
        "--suppress-health-check", "all", "--output-truncate", "true", *selection,
    ]
    # An over-long address is refused by the server itself, with the JSON 414 (shared/local/functions_server.py):
    # a rejection like any other 4xx.
    (tmp_path / "schemathesis.toml").write_text(
        "[checks.negative_data_rejection]\n"
        f"expected-statuses = {json.dumps(REJECTIONS)}\n")
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.fuzz_hooks", "PYTHONPATH": str(ROOT)}
    # Run outside the checkout: schemathesis keeps a cache of what it found in its working directory.
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env,  # noqa: S603
                          timeout=seconds * 3 + 300)
    output = done.stdout + done.stderr
    print(output[-3000:])  # the run's summary: operations, phases, test cases generated (pytest -s shows it)
    assert done.returncode == 0, output[:6000] + "\n...\n" + output[-8000:]
    assert "generated" in output and " passed" in output, output[-4000:]
    return output


def test_fuzz_every_operation(client: StackClient, stack, user, vertical_file, tmp_path) -> None:
    for platform in ("facebook", "instagram", "youtube"):
        connect_account(client, platform)
    client.upload(vertical_file)  # the links from GET /videos reach publish with a real video
    seconds = int(os.environ.get("FUZZ_SECONDS", "90"))
    # Everything but disconnecting, which would take the accounts away from the publish path: each
    # operation alone, then chained along the links, each with its share of the time...
    _fuzz(stack, client, tmp_path, max(seconds // 2, 10), "examples,coverage,fuzzing", "--exclude-method", "DELETE")
    _fuzz(stack, client, tmp_path, max(seconds * 2 // 5, 10), "stateful", "--exclude-method", "DELETE")
    # The stateful part got past validation: platform posts were created for this user.
    with stack.db.service() as conn:
        stored = conn.execute("select count(*) as n from publish_targets where user_id = %s",
                              (user["sub"],)).fetchone()["n"]
    print(f"platform posts the fuzz run created: {stored}")
    assert stored > 0
    # ...which then gets its own run.
    _fuzz(stack, client, tmp_path, max(seconds // 10, 5), "examples,coverage,fuzzing", "--include-method", "DELETE")
