"""Deploy shortpub to Google Cloud in one command.

    python -m deploy.deploy [--config deploy/config.env] [--project P] [--region R] [--dry-run]

`--dry-run` prints every command, one per line and shell-quoted, and runs nothing
(gcloud and the Supabase CLI need not be installed). See docs/deploy.md.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from deploy.config import DEFAULT_CONFIG, DeployConfig, DeployConfigError, load_config
from deploy.functions import function_specs
from deploy.plan import PROJECT_NUMBER_PLACEHOLDER, Ensure, Require, Run, Step, build_plan
from deploy.staging import PROJECT_ROOT, runtime_requirements

TOOLS = {
    "gcloud": "Install the Google Cloud CLI: https://cloud.google.com/sdk/docs/install",
    "supabase": "Install the Supabase CLI: https://supabase.com/docs/guides/cli",
}


class DeployFailed(RuntimeError):
    pass


def plan_for(config: DeployConfig, stage_root: Path) -> list[Step]:
    from shared.local.functions_server import function_names
    from shared.platforms import adapters
    from shared.tasks.queues import queue_specs

    registered = adapters()
    queues = queue_specs(registered)
    functions = function_specs(function_names(), list(registered), queues)
    return build_plan(config, functions, queues, runtime_requirements(), stage_root)


def _run(args: tuple[str, ...], *, quiet: bool = False) -> bool:
    result = subprocess.run(args, cwd=PROJECT_ROOT, capture_output=quiet, text=True, check=False)
    return result.returncode == 0


def execute(steps: list[Step]) -> None:
    for step in steps:
        print(step.render(), flush=True)
        if isinstance(step, Run):
            if not _run(step.args):
                raise DeployFailed(f"This command failed: {step.render()}")
        elif isinstance(step, Ensure):
            exists = _run(step.check, quiet=True)
            command = step.update if exists else step.create
            if command is not None and not _run(command):
                raise DeployFailed(f"This command failed: {step.render()}")
        elif isinstance(step, Require) and not _run(step.check, quiet=True):
            raise DeployFailed(step.problem)


def project_number(project: str) -> str:
    result = subprocess.run(
        ("gcloud", "projects", "describe", project, "--format=value(projectNumber)"),
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0 or not result.stdout.strip():
        raise DeployFailed(f"Could not read the number of project {project}: {result.stderr.strip()}")
    return result.stdout.strip()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="deploy", description="Deploy shortpub to Google Cloud.")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="deploy settings (KEY=VALUE file)")
    parser.add_argument("--project", help="Google Cloud project id (overrides DEPLOY_PROJECT)")
    parser.add_argument("--region", help="region of functions, queues and scheduler (overrides DEPLOY_REGION)")
    parser.add_argument("--project-number", help="numeric project number (looked up with gcloud when omitted)")
    parser.add_argument("--stage-dir", type=Path, help="where to write function sources (default: a temp dir)")
    parser.add_argument("--dry-run", action="store_true", help="print every command, run nothing")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = load_config(args.config, project=args.project, region=args.region,
                             project_number=args.project_number)
        if not args.dry_run:
            missing = [f"{tool} is not installed. {hint}" for tool, hint in TOOLS.items() if not shutil.which(tool)]
            if missing:
                raise DeployFailed(" ".join(missing))
            if config.project_number is None:
                config = DeployConfig(**{**config.__dict__, "project_number": project_number(config.project)})
        stage_root = args.stage_dir or Path(tempfile.mkdtemp(prefix="shortpub-deploy-"))
        steps = plan_for(config, stage_root)
    except (DeployConfigError, DeployFailed, ValueError) as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(f"# shortpub deploy plan for project {config.project} in {config.region}; sources staged in {stage_root}")
        if config.project_number is None:
            print(f"# {PROJECT_NUMBER_PLACEHOLDER} stands for the project number (a real deploy looks it up)")
        for step in steps:
            print(step.render())
        return 0
    try:
        execute(steps)
    except DeployFailed as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 1
    print(f"Deployed. Functions: {config.functions_base_url}/<name>")
    return 0


if __name__ == "__main__":
    sys.exit(main())
