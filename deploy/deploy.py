"""Deploy shortpub to Google Cloud in one command.

    python -m deploy.deploy [--config deploy/config.env] [--project P] [--region R] [--dry-run] [--prune]

`--dry-run` prints every command, one per line and shell-quoted, and runs nothing
(gcloud, curl and the Supabase CLI need not be installed). See docs/deploy.md.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from deploy.config import DEFAULT_CONFIG, DeployConfig, DeployConfigError, load_config
from deploy.functions import function_specs
from deploy.plan import build_plan
from deploy.staging import PROJECT_ROOT, runtime_requirements
from deploy.steps import PLACEHOLDER, Capture, Ensure, Prune, Run, Step, Upsert, render_args
from shared.local.functions_server import function_names
from shared.platforms import adapters
from shared.tasks.queues import queue_specs

TOOLS = {
    "gcloud": "Install the Google Cloud CLI: https://cloud.google.com/sdk/docs/install",
    "supabase": "Install the Supabase CLI: https://supabase.com/docs/guides/cli",
    "curl": "Install curl (the last step calls the deployed functions).",
}
# IAM bindings on accounts made seconds ago fail until IAM has caught up (minutes at worst).
RETRY_DELAYS_S = (2, 4, 8, 16, 32, 64)


class DeployFailed(RuntimeError):
    pass


def plan_for(config: DeployConfig, stage_root: Path, *, prune: bool = False) -> list[Step]:
    registered = adapters()
    queues = queue_specs(registered)
    functions = function_specs(function_names(), list(registered), queues)
    return build_plan(config, functions, queues, runtime_requirements(), stage_root, prune=prune)


class Executor:
    """Runs steps in order, remembering the ${NAME} values that Capture and Upsert find."""

    def __init__(self, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.values: dict[str, str] = {}
        self.sleep = sleep

    def _fill(self, args: tuple[str, ...]) -> tuple[str, ...]:
        def value(match: object) -> str:
            name = match.group(1)  # type: ignore[attr-defined]
            if name not in self.values:
                raise DeployFailed(f"internal: ${{{name}}} is used before a step found it")
            return self.values[name]

        return tuple(PLACEHOLDER.sub(value, arg) for arg in args)

    def _run(self, args: tuple[str, ...], *, quiet: bool = False, capture: bool = False) -> tuple[bool, str]:
        result = subprocess.run(self._fill(args), cwd=PROJECT_ROOT, capture_output=quiet or capture, text=True,
                                check=False)
        if capture and result.returncode != 0 and result.stderr:
            print(result.stderr.strip(), file=sys.stderr)
        return result.returncode == 0, (result.stdout or "") if capture else ""

    def _must(self, args: tuple[str, ...], problem: str | None = None, *, retry: bool = False,
              capture: bool = False) -> str:
        delays = RETRY_DELAYS_S if retry else ()
        for attempt in range(len(delays) + 1):
            ok, out = self._run(args, capture=capture)
            if ok:
                return out
            if attempt < len(delays):
                print(f"  (failed; trying again in {delays[attempt]} s)", flush=True)
                self.sleep(delays[attempt])
        raise DeployFailed(problem or f"This command failed: {render_args(args)}")

    def step(self, step: Step) -> None:
        print(step.render(), flush=True)
        if isinstance(step, Run):
            self._must(step.args, step.problem, retry=step.retry)
        elif isinstance(step, Ensure):
            exists, _ = self._run(step.check, quiet=True)
            command = step.update if exists else step.create
            if command is not None:
                self._must(command)
        elif isinstance(step, Capture):
            ok, out = self._run(step.command, capture=True)
            value = out.strip()
            if not ok or not value:
                raise DeployFailed(step.problem)
            self.values[step.name] = step.transform(value) if step.transform else value
        elif isinstance(step, Upsert):
            found = self._must(step.find, capture=True).strip().splitlines()
            if found and found[0].strip():
                if step.update is not None:
                    self.values["FOUND"] = found[0].strip()
                    self._must(step.update)
                kept = found[0].strip()
            else:
                kept = self._must(step.create, capture=step.keep_as is not None).strip()
            if step.keep_as:
                if not kept:
                    raise DeployFailed(f"This command printed no id: {render_args(step.create)}")
                self.values[step.keep_as] = kept.splitlines()[0]
        elif isinstance(step, Prune):
            listed = self._must(step.list_command, capture=True).split()
            names = sorted({item.rsplit("/", 1)[-1] for item in listed})
            left = [name for name in names if step.ours(name) and name not in step.keep]
            for name in left:
                delete = tuple(arg.replace("{name}", name) for arg in step.delete)
                if step.apply:
                    print(f"  deleting {step.kind[:-1]} {name}", flush=True)
                    self._must(delete)
                else:
                    print(f"  left behind: {step.kind[:-1]} {name}; to delete: {render_args(delete)} "
                          "(or deploy again with --prune)", flush=True)


def execute(steps: list[Step], executor: Executor | None = None) -> None:
    executor = executor or Executor()
    for step in steps:
        executor.step(step)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="deploy", description="Deploy shortpub to Google Cloud.")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="deploy settings (KEY=VALUE file)")
    parser.add_argument("--project", help="Google Cloud project id (overrides DEPLOY_PROJECT)")
    parser.add_argument("--region", help="region of functions, queues and scheduler (overrides DEPLOY_REGION)")
    parser.add_argument("--stage-dir", type=Path, help="where to write function sources (default: a temp dir)")
    parser.add_argument("--dry-run", action="store_true", help="print every command, run nothing")
    parser.add_argument("--prune", action="store_true",
                        help="delete functions and queues of platforms that no longer exist (default: list them)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = load_config(args.config, project=args.project, region=args.region)
        if not args.dry_run:
            missing = [f"{tool} is not installed. {hint}" for tool, hint in TOOLS.items() if not shutil.which(tool)]
            if missing:
                raise DeployFailed(" ".join(missing))
        stage_root = args.stage_dir or Path(tempfile.mkdtemp(prefix="shortpub-deploy-"))
        steps = plan_for(config, stage_root, prune=args.prune)
    except (DeployConfigError, DeployFailed, ValueError) as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(f"# shortpub deploy plan for project {config.project} in {config.region}; sources staged in {stage_root}")
        print("# ${NAME} values are found while deploying (pinned secret versions, ids); secrets are never printed")
        for step in steps:
            print(step.render())
        return 0
    try:
        execute(steps)
    except DeployFailed as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 1
    print(f"Deployed and checked. Functions: {config.functions_base_url}/<name>")
    return 0


if __name__ == "__main__":
    sys.exit(main())
