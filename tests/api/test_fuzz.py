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


def test_fuzz_every_operation(client: StackClient, stack, vertical_file, tmp_path) -> None:
    for platform in ("facebook", "instagram", "youtube"):
        connect_account(client, platform)
    client.upload(vertical_file)  # the links from GET /videos reach publish with a real video
    seconds = os.environ.get("FUZZ_SECONDS", "90")
    report = tmp_path / "fuzz.ndjson"
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(ROOT / "openapi.json"), "--url", stack.functions_url,
        "-H", f"Authorization: {client.api.headers['Authorization']}",
        "--checks", CHECKS, "--max-response-time", str(MAX_RESPONSE_S), "--max-time", seconds,
        "--phases", "examples,coverage,fuzzing,stateful", "--workers", "1", "--seed", "1",
        "--max-examples", os.environ.get("FUZZ_EXAMPLES", "25"), "--request-timeout", "20",
        "--suppress-health-check", "all", "--report", "ndjson", "--report-ndjson-path", str(report),
        "--output-truncate", "true",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.fuzz_hooks", "PYTHONPATH": str(ROOT)}
    # Run outside the checkout: schemathesis keeps a cache of what it found in its working directory.
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env,  # noqa: S603
                          timeout=int(seconds) * 3 + 300)
    output = done.stdout + done.stderr
    print(output[-3000:])  # the run's summary: operations, phases, test cases generated (pytest -s shows it)
    assert done.returncode == 0, output[:6000] + "\n...\n" + output[-8000:]
    events = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    assert events, "the fuzz run reported nothing"
    assert "No issues found" in output or "passed" in output.lower(), output[-4000:]
