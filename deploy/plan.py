"""The deploy as data: an ordered list of steps, each one or a few CLI commands.

The same plan is printed by `--dry-run` and executed by a real deploy, so what the
dry run shows is exactly what runs. Every step is safe to repeat: existing resources
are updated, missing ones created.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deploy.config import DeployConfig
from deploy.functions import FunctionSpec
from deploy.staging import stage
from shared.tasks.queues import QueueSpec

APIS = (
    "cloudfunctions.googleapis.com", "run.googleapis.com", "cloudbuild.googleapis.com",
    "artifactregistry.googleapis.com", "cloudtasks.googleapis.com", "cloudscheduler.googleapis.com",
    "secretmanager.googleapis.com", "iam.googleapis.com",
)
RUNTIME = "python311"
SCHEDULER_JOB = "scheduler-tick"
SCHEDULE = "* * * * *"
PROJECT_NUMBER_PLACEHOLDER = "PROJECT_NUMBER"


@dataclass(frozen=True)
class Run:
    """Run a command; a failure stops the deploy."""

    args: tuple[str, ...]

    def render(self) -> str:
        return shlex.join(self.args)


@dataclass(frozen=True)
class Ensure:
    """Create a resource unless `check` finds it; when it exists, run `update` (if any)."""

    check: tuple[str, ...]
    create: tuple[str, ...]
    update: tuple[str, ...] | None = None

    def render(self) -> str:
        check = f"{shlex.join(self.check)} >/dev/null 2>&1"
        if self.update is None:
            return f"{check} || {shlex.join(self.create)}"
        return f"if {check}; then {shlex.join(self.update)}; else {shlex.join(self.create)}; fi"


@dataclass(frozen=True)
class Require:
    """Stop the deploy with a plain explanation when `check` fails (e.g. a secret without a value)."""

    check: tuple[str, ...]
    problem: str

    def render(self) -> str:
        return f"{shlex.join(self.check)} >/dev/null 2>&1 || {{ echo {shlex.quote(self.problem)} >&2; exit 1; }}"


Step = Run | Ensure | Require


def _env_flag(env: Mapping[str, str]) -> str:
    pairs = [f"{k}={v}" for k, v in env.items()]
    if any("," in pair for pair in pairs):
        # gcloud's escape for list values that contain commas: pick another delimiter.
        return "--set-env-vars=^@^" + "@".join(pairs)
    return "--set-env-vars=" + ",".join(pairs)


class Planner:
    def __init__(self, config: DeployConfig) -> None:
        self.config = config
        self.p = f"--project={config.project}"

    # ------------------------------------------------------------------ foundations

    def apis(self) -> list[Step]:
        return [Run(("gcloud", "services", "enable", *APIS, self.p))]

    def service_accounts(self) -> list[Step]:
        c = self.config
        steps: list[Step] = []
        for name, email, title in ((c.runtime_account_name, c.runtime_account, "shortpub functions"),
                                   (c.invoker_account_name, c.invoker_account, "shortpub task and scheduler caller")):
            steps.append(Ensure(
                check=("gcloud", "iam", "service-accounts", "describe", email, self.p),
                create=("gcloud", "iam", "service-accounts", "create", name, f"--display-name={title}", self.p),
            ))
        number = c.project_number or PROJECT_NUMBER_PLACEHOLDER
        tasks_agent = f"service-{number}@gcp-sa-cloudtasks.iam.gserviceaccount.com"
        steps += [
            # The functions create tasks on the queues...
            Run(("gcloud", "projects", "add-iam-policy-binding", c.project,
                 f"--member=serviceAccount:{c.runtime_account}", "--role=roles/cloudtasks.enqueuer",
                 "--condition=None")),
            # ...that carry OIDC tokens of the invoker account, which needs actAs on it...
            Run(("gcloud", "iam", "service-accounts", "add-iam-policy-binding", c.invoker_account,
                 f"--member=serviceAccount:{c.runtime_account}", "--role=roles/iam.serviceAccountUser", self.p)),
            # ...and Cloud Tasks itself mints those tokens when it delivers.
            Run(("gcloud", "iam", "service-accounts", "add-iam-policy-binding", c.invoker_account,
                 f"--member=serviceAccount:{tasks_agent}", "--role=roles/iam.serviceAccountUser", self.p)),
        ]
        return steps

    def secrets(self) -> list[Step]:
        steps: list[Step] = []
        for name in self.config.secrets:
            steps += [
                Ensure(
                    check=("gcloud", "secrets", "describe", name, self.p),
                    create=("gcloud", "secrets", "create", name, "--replication-policy=automatic", self.p),
                ),
                Require(
                    check=("gcloud", "secrets", "versions", "describe", "latest", f"--secret={name}", self.p),
                    problem=(f"Secret {name} has no value yet. Add it with: gcloud secrets versions add {name} "
                             f"--data-file=- {self.p} (type the value, then Ctrl-D), or list it in "
                             "DEPLOY_SKIP_SECRETS if you do not use it."),
                ),
                Run(("gcloud", "secrets", "add-iam-policy-binding", name,
                     f"--member=serviceAccount:{self.config.runtime_account}",
                     "--role=roles/secretmanager.secretAccessor", self.p)),
            ]
        return steps

    def migrations(self) -> list[Step]:
        # The Supabase CLI reads SUPABASE_ACCESS_TOKEN and SUPABASE_DB_PASSWORD from the environment.
        return [
            Run(("supabase", "link", f"--project-ref={self.config.supabase_project_ref}")),
            Run(("supabase", "db", "push", "--linked", "--yes")),
        ]

    # ------------------------------------------------------------------ queues and scheduler

    def queues(self, specs: Mapping[str, QueueSpec]) -> list[Step]:
        steps: list[Step] = []
        for spec in specs.values():
            where = (f"--location={self.config.region}", self.p)
            flags = (
                f"--max-dispatches-per-second={spec.max_dispatches_per_second:g}",
                f"--max-concurrent-dispatches={spec.max_concurrent_dispatches}",
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

    def function(self, spec: FunctionSpec, source: Path) -> list[Step]:
        c = self.config
        size = spec.sizing
        args: tuple[str, ...] = (
            "gcloud", "functions", "deploy", spec.name, "--gen2", f"--runtime={RUNTIME}",
            f"--region={c.region}", f"--source={source}", f"--entry-point={spec.entry_point}",
            "--trigger-http", f"--memory={size.memory}", f"--cpu={size.cpu}", f"--timeout={size.timeout_s}s",
            f"--concurrency={size.concurrency}", f"--max-instances={size.max_instances}",
            f"--service-account={c.runtime_account}",
            "--allow-unauthenticated" if spec.public else "--no-allow-unauthenticated",
            _env_flag(c.function_env()),
            "--set-secrets=" + ",".join(f"{name}={name}:latest" for name in c.secrets),
            self.p,
        )
        steps: list[Step] = [Run(args)]
        if not spec.public:
            steps += [
                Run(("gcloud", "functions", "add-invoker-policy-binding", spec.name, f"--region={c.region}",
                     f"--member=serviceAccount:{c.invoker_account}", self.p)),
                # Tasks and the scheduler sign one audience for every target (TASKS_AUDIENCE), not each
                # service's own run.app URL, so each private service must accept it.
                Run(("gcloud", "run", "services", "update", spec.name, f"--region={c.region}",
                     f"--add-custom-audiences={c.tasks_audience}", self.p)),
            ]
        return steps


def build_plan(config: DeployConfig, functions: list[FunctionSpec], queues: Mapping[str, QueueSpec],
               requirements: list[str], stage_root: Path) -> list[Step]:
    """Every step of a deploy, in order. Stages each function's source under `stage_root`."""
    planner = Planner(config)
    steps: list[Step] = [*planner.apis(), *planner.service_accounts(), *planner.secrets(), *planner.migrations(),
                         *planner.queues(queues)]
    for spec in functions:
        steps += planner.function(spec, stage(spec, stage_root, requirements))
    steps += planner.scheduler()
    return steps
