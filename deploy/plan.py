"""The deploy as data: an ordered list of steps, each one or a few CLI commands.

The same plan is printed by `--dry-run` and executed by a real deploy, so what the
dry run shows is exactly what runs. Every step is safe to repeat: existing resources
are updated, missing ones created.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from deploy import monitoring
from deploy.config import ACCOUNT_TITLES, DeployConfig
from deploy.functions import FunctionSpec, fit_connection_budget
from deploy.staging import stage
from deploy.steps import Capture, Ensure, Prune, Run, Step
from shared.tasks.queues import PUBLISH_QUEUE_PREFIX, QueueSpec

APIS = (
    "cloudfunctions.googleapis.com", "run.googleapis.com", "cloudbuild.googleapis.com",
    "artifactregistry.googleapis.com", "cloudtasks.googleapis.com", "cloudscheduler.googleapis.com",
    "secretmanager.googleapis.com", "iam.googleapis.com", "logging.googleapis.com",
    "monitoring.googleapis.com",
)
RUNTIME = "python311"
SCHEDULER_JOB = "scheduler-tick"
SCHEDULE = "* * * * *"
# Queues an older deploy created that nothing uses any more (the tick runs from Cloud Scheduler).
RETIRED_QUEUES = ("scheduler",)
# A target id no target has: the worker answers 200 "missing" without touching anything.
NO_OP_TARGET = "00000000-0000-0000-0000-000000000000"
# Cloud Build's builder role covers what a function build needs: logs, Artifact Registry, the
# staged source (https://cloud.google.com/functions/docs/securing/build-custom-sa).
BUILD_ROLES = ("roles/cloudbuild.builds.builder",)


def version_var(secret: str) -> str:
    return f"SECRET_VERSION_{secret}"


def version_number(resource_name: str) -> str:
    """projects/1/secrets/X/versions/7 -> 7 (what `--set-secrets NAME=NAME:7` wants)."""
    number = resource_name.strip().rsplit("/", 1)[-1]
    if not number.isdigit():
        raise ValueError(f"not a secret version: {resource_name!r}")
    return number


def session_pooler_url(database_url: str) -> str:
    """The same Supabase pooler in session mode (port 5432), where migrations belong.

    The functions use transaction mode (port 6543); session mode keeps one connection for
    the whole migration run (https://supabase.com/docs/guides/database/connecting-to-postgres).
    """
    url = urlsplit(database_url.strip())
    if url.port != 6543 or not (url.hostname or "").endswith(".pooler.supabase.com"):
        return database_url.strip()
    return urlunsplit(url._replace(netloc=url.netloc.rsplit(":", 1)[0] + ":5432"))


def account_member(account: str) -> str:
    account = account.strip()
    kind = "serviceAccount" if account.endswith(".gserviceaccount.com") else "user"
    return f"{kind}:{account}"


def env_file_text(env: Mapping[str, str]) -> str:
    """A gcloud --env-vars-file: YAML, one `KEY: "value"` line each (JSON strings are valid YAML)."""
    return "".join(f"{key}: {json.dumps(value)}\n" for key, value in env.items())


class Planner:
    def __init__(self, config: DeployConfig, stage_root: Path, *, prune: bool = False) -> None:
        self.config = config
        self.stage_root = stage_root
        self.prune_apply = prune
        self.p = f"--project={config.project}"

    # ------------------------------------------------------------------ foundations

    def apis(self) -> list[Step]:
        return [Run(("gcloud", "services", "enable", *APIS, self.p))]

    def service_accounts(self) -> list[Step]:
        c = self.config
        steps: list[Step] = []
        for role, title in ACCOUNT_TITLES.items():
            steps.append(Ensure(
                check=("gcloud", "iam", "service-accounts", "describe", c.account(role), self.p),
                create=("gcloud", "iam", "service-accounts", "create", c.account_names[role],
                        f"--display-name={title}", self.p),
            ))
        # Created in this very run, the accounts may not be visible to IAM yet: retry.
        for role in BUILD_ROLES:
            steps.append(Run(("gcloud", "projects", "add-iam-policy-binding", c.project,
                              f"--member=serviceAccount:{c.account('build')}", f"--role={role}",
                              "--condition=None"), retry=True))
        for role in ("api", "worker", "tick"):
            steps += [
                # Every runtime account creates tasks on the queues...
                Run(("gcloud", "projects", "add-iam-policy-binding", c.project,
                     f"--member=serviceAccount:{c.account(role)}", "--role=roles/cloudtasks.enqueuer",
                     "--condition=None"), retry=True),
                # ...that carry OIDC tokens of the tasks account, which needs actAs on it.
                Run(("gcloud", "iam", "service-accounts", "add-iam-policy-binding", c.invoker_account,
                     f"--member=serviceAccount:{c.account(role)}", "--role=roles/iam.serviceAccountUser",
                     self.p), retry=True),
            ]
        # Cloud Tasks mints those tokens as its service agent, whose role
        # (roles/cloudtasks.serviceAgent) already holds iam.serviceAccounts.getOpenIdToken
        # (https://cloud.google.com/iam/docs/roles-permissions/cloudtasks), so it needs no binding
        # of its own; the agent is created lazily, so make sure it exists.
        steps.append(Run(("gcloud", "beta", "services", "identity", "create",
                          "--service=cloudtasks.googleapis.com", self.p), retry=True))
        return steps

    def secrets(self) -> list[Step]:
        c = self.config
        steps: list[Step] = []
        for name in c.secrets:
            steps += [
                Ensure(
                    check=("gcloud", "secrets", "describe", name, self.p),
                    create=("gcloud", "secrets", "create", name, "--replication-policy=automatic", self.p),
                ),
                # Pinned: every function of this deploy reads the same version, even new instances
                # started after someone adds a version (docs/deploy.md, "Rotating a secret").
                Capture(
                    name=version_var(name),
                    command=("gcloud", "secrets", "versions", "describe", "latest", f"--secret={name}",
                             "--format=value(name)", self.p),
                    problem=(f"Secret {name} has no value yet. Add it with: gcloud secrets versions add {name} "
                             f"--data-file=- {self.p} (type the value, then Ctrl-D), or list it in "
                             "DEPLOY_SKIP_SECRETS if you do not use it."),
                    transform=version_number, describe="pinned version number",
                ),
            ]
            for role in ("api", "worker", "tick"):
                if name in c.role_secrets(role):
                    steps.append(Run(("gcloud", "secrets", "add-iam-policy-binding", name,
                                      f"--member=serviceAccount:{c.account(role)}",
                                      "--role=roles/secretmanager.secretAccessor", self.p), retry=True))
        return steps

    def migrations(self) -> list[Step]:
        # `supabase link` may prompt for the database password; --db-url never does.
        return [
            Capture(
                name="MIGRATION_DATABASE_URL",
                command=("gcloud", "secrets", "versions", "access", "${" + version_var("DATABASE_URL") + "}",
                         "--secret=DATABASE_URL", self.p),
                problem="Could not read the DATABASE_URL secret for the migrations.",
                secret=True, transform=session_pooler_url,
                describe="the pooler in session mode (port 5432)",
            ),
            Run(("supabase", "db", "push", "--db-url", "${MIGRATION_DATABASE_URL}", "--yes"),
                problem="The database migrations failed (see the Supabase CLI's message above); nothing "
                        "was deployed."),
        ]

    # ------------------------------------------------------------------ queues and scheduler

    def queues(self, specs: Mapping[str, QueueSpec], functions: list[FunctionSpec]) -> list[Step]:
        steps: list[Step] = []
        workers = {f.name: f for f in functions if f.role == "worker"}
        for spec in specs.values():
            concurrent = spec.max_concurrent_dispatches
            if spec.name in workers:
                # The queue never sends more at once than the worker's instances can take.
                sizing = workers[spec.name].sizing
                concurrent = min(concurrent, sizing.max_instances * sizing.concurrency)
            where = (f"--location={self.config.region}", self.p)
            flags = (
                f"--max-dispatches-per-second={spec.max_dispatches_per_second:g}",
                f"--max-concurrent-dispatches={concurrent}",
                f"--max-attempts={spec.retry.max_attempts}",
                f"--min-backoff={spec.retry.min_backoff_s}s",
                f"--max-backoff={spec.retry.max_backoff_s}s",
                f"--max-doublings={spec.retry.max_doublings}",
            )
            steps.append(Ensure(
                check=("gcloud", "tasks", "queues", "describe", spec.name, *where),
                create=("gcloud", "tasks", "queues", "create", spec.name, *flags, *where),
                update=("gcloud", "tasks", "queues", "update", spec.name, *flags, *where),
            ))
        return steps

    def scheduler(self) -> list[Step]:
        c = self.config
        where = (f"--location={c.region}", self.p)
        flags = (
            f"--schedule={SCHEDULE}", "--time-zone=Etc/UTC",
            f"--uri={c.functions_base_url}/{SCHEDULER_JOB}", "--http-method=POST",
            f"--oidc-service-account-email={c.invoker_account}", f"--oidc-token-audience={c.tasks_audience}",
            "--attempt-deadline=540s",
        )
        return [Ensure(
            check=("gcloud", "scheduler", "jobs", "describe", SCHEDULER_JOB, *where),
            create=("gcloud", "scheduler", "jobs", "create", "http", SCHEDULER_JOB, *flags, *where),
            update=("gcloud", "scheduler", "jobs", "update", "http", SCHEDULER_JOB, *flags, *where),
        )]

    # ------------------------------------------------------------------ functions

    def env_for(self, spec: FunctionSpec) -> dict[str, str]:
        env = self.config.function_env()
        env["DB_POOL_MAX"] = str(spec.sizing.db_pool)
        env["DB_POOL_MIN"] = "1"
        if not spec.public:
            # Cloud Run checks the caller's token before our code runs (shared/tasks/oidc.py).
            env["TASKS_INVOKER_IAM_CHECK"] = "true"
        return dict(sorted(env.items()))

    def function(self, spec: FunctionSpec, source: Path) -> list[Step]:
        c = self.config
        size = spec.sizing
        env_file = self.stage_root / "env" / f"{spec.name}.yaml"
        env_file.parent.mkdir(parents=True, exist_ok=True)
        env_file.write_text(env_file_text(self.env_for(spec)))
        secrets = ",".join(f"{name}={name}:${{{version_var(name)}}}" for name in c.role_secrets(spec.role))
        open_to_all = spec.public and c.public_access == "allow-unauthenticated"
        args: tuple[str, ...] = (
            "gcloud", "functions", "deploy", spec.name, "--gen2", f"--runtime={RUNTIME}",
            f"--region={c.region}", f"--source={source}", f"--entry-point={spec.entry_point}",
            "--trigger-http", f"--memory={size.memory}", f"--cpu={size.cpu}", f"--timeout={size.timeout_s}s",
            f"--concurrency={size.concurrency}", f"--max-instances={size.max_instances}",
            f"--service-account={c.account(spec.role)}",
            f"--build-service-account=projects/{c.project}/serviceAccounts/{c.account('build')}",
            "--allow-unauthenticated" if open_to_all else "--no-allow-unauthenticated",
            f"--env-vars-file={env_file}",
            f"--set-secrets={secrets}",
            self.p,
        )
        steps: list[Step] = [Run(args)]
        where = (f"--region={c.region}", self.p)
        if spec.public:
            if not open_to_all:
                # Public without granting allUsers (https://cloud.google.com/run/docs/authenticating/public).
                steps.append(Run(("gcloud", "run", "services", "update", spec.name, "--no-invoker-iam-check",
                                  *where)))
        else:
            steps += [
                Run(("gcloud", "functions", "add-invoker-policy-binding", spec.name, *where[:1],
                     f"--member=serviceAccount:{c.invoker_account}", self.p), retry=True),
                # The check on, and the single audience tasks and the scheduler sign
                # (TASKS_AUDIENCE) accepted besides the service's own run.app URL.
                Run(("gcloud", "run", "services", "update", spec.name, "--invoker-iam-check",
                     f"--add-custom-audiences={c.tasks_audience}", *where)),
            ]
        return steps

    # ------------------------------------------------------------------ leftovers and checks

    def leftovers(self, functions: list[FunctionSpec], queues: Mapping[str, QueueSpec]) -> list[Step]:
        c = self.config
        where = (f"--region={c.region}", self.p)
        return [
            Prune(
                kind="functions",
                list_command=("gcloud", "functions", "list", f"--regions={c.region}", "--format=value(name)",
                              self.p),
                ours=lambda name: name.startswith(PUBLISH_QUEUE_PREFIX),
                ours_describe=f"{PUBLISH_QUEUE_PREFIX}*",
                keep=tuple(sorted(f.name for f in functions)),
                delete=("gcloud", "functions", "delete", "{name}", *where, "--quiet"),
                apply=self.prune_apply,
            ),
            Prune(
                kind="task queues",
                list_command=("gcloud", "tasks", "queues", "list", f"--location={c.region}",
                              "--format=value(name)", self.p),
                ours=lambda name: name.startswith(PUBLISH_QUEUE_PREFIX) or name in RETIRED_QUEUES,
                ours_describe=f"{PUBLISH_QUEUE_PREFIX}* or {', '.join(RETIRED_QUEUES)}",
                keep=tuple(sorted(queues)),
                delete=("gcloud", "tasks", "queues", "delete", "{name}", f"--location={c.region}", self.p,
                        "--quiet"),
                apply=self.prune_apply,
            ),
        ]

    def verify(self, functions: list[FunctionSpec]) -> list[Step]:
        """Fail loudly unless /health answers 200 and a private function accepts a task's token."""
        c = self.config
        worker = next(f for f in functions if f.role == "worker")
        base = c.functions_base_url
        return [
            Capture(name="DEPLOYER", command=("gcloud", "config", "get-value", "account"),
                    problem="gcloud has no signed-in account (gcloud auth login).",
                    transform=account_member, describe="as an IAM member"),
            # The deployer mints a token as the tasks account, exactly like Cloud Tasks does.
            Run(("gcloud", "iam", "service-accounts", "add-iam-policy-binding", c.invoker_account,
                 "--member=${DEPLOYER}", "--role=roles/iam.serviceAccountTokenCreator", self.p), retry=True),
            Capture(name="TASKS_ID_TOKEN",
                    command=("gcloud", "auth", "print-identity-token",
                             f"--impersonate-service-account={c.invoker_account}",
                             f"--audiences={c.tasks_audience}", "--include-email"),
                    problem="Could not mint an ID token as the tasks account to check a private function.",
                    secret=True),
            Run(("curl", "--fail-with-body", "--silent", "--show-error", "--max-time", "60",
                 "--retry", "5", "--retry-all-errors", f"{base}/health"),
                problem=f"Deployed, but {base}/health did not answer 200: the functions cannot reach the "
                        "database (check the DATABASE_URL secret) or did not start (see their logs)."),
            Run(("curl", "--fail-with-body", "--silent", "--show-error", "--max-time", "60",
                 "--retry", "5", "--retry-all-errors", "-X", "POST",
                 "-H", "Authorization: Bearer ${TASKS_ID_TOKEN}", "-H", "Content-Type: application/json",
                 "--data", json.dumps({"target_id": NO_OP_TARGET, "seq": 0}), f"{base}/{worker.name}"),
                problem=f"Deployed, but {worker.name} refused a task's token: tasks and the scheduler tick "
                        "would get 403. Check TASKS_AUDIENCE, the invoker binding and the custom audience."),
        ]


def build_plan(config: DeployConfig, functions: list[FunctionSpec], queues: Mapping[str, QueueSpec],
               requirements: list[str], stage_root: Path, *, prune: bool = False) -> list[Step]:
    """Every step of a deploy, in order. Stages each function's source under `stage_root`."""
    functions = fit_connection_budget(functions, config.db_max_connections, config.worker_db_share)
    planner = Planner(config, stage_root, prune=prune)
    steps: list[Step] = [*planner.apis(), *planner.service_accounts(), *planner.secrets(), *planner.migrations(),
                         *planner.queues(queues, functions)]
    for spec in functions:
        steps += planner.function(spec, stage(spec, stage_root, requirements))
    steps += planner.scheduler()
    steps += monitoring.steps(config, stage_root / "monitoring")
    steps += planner.leftovers(functions, queues)
    steps += planner.verify(functions)
    return steps

