"""The deploy configuration: a KEY=VALUE file of plain (non-secret) settings plus deploy options.

Keys starting with DEPLOY_ steer the deploy itself; every other key is handed to
every function as an environment variable. Secrets are refused here: they belong in
Secret Manager (see deploy/secrets.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from deploy.secrets import LOCAL_ONLY_SETTINGS, SECRET_SETTINGS, looks_secret

DEPLOY_DIR = Path(__file__).resolve().parent
DEFAULT_CONFIG = DEPLOY_DIR / "config.env"
EXAMPLE_CONFIG = DEPLOY_DIR / "config.example.env"

# Set by the deploy from its own knowledge; a config file may not override them.
DERIVED_SETTINGS = (
    "ENVIRONMENT", "GOOGLE_CLOUD_PROJECT", "TASKS_BACKEND", "TASKS_LOCATION", "TASKS_SERVICE_ACCOUNT",
)


class DeployConfigError(ValueError):
    """The deploy configuration is incomplete or unsafe; the message says what to change."""


@dataclass(frozen=True)
class DeployConfig:
    project: str
    region: str
    supabase_project_ref: str
    runtime_account_name: str = "shortpub-runtime"
    invoker_account_name: str = "shortpub-tasks"
    project_number: str | None = None
    skip_secrets: tuple[str, ...] = ()
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def runtime_account(self) -> str:
        return f"{self.runtime_account_name}@{self.project}.iam.gserviceaccount.com"

    @property
    def invoker_account(self) -> str:
        return f"{self.invoker_account_name}@{self.project}.iam.gserviceaccount.com"

    @property
    def functions_base_url(self) -> str:
        default = f"https://{self.region}-{self.project}.cloudfunctions.net"
        return self.settings.get("FUNCTIONS_BASE_URL", default).rstrip("/")

    @property
    def tasks_audience(self) -> str:
        return self.settings.get("TASKS_AUDIENCE") or self.functions_base_url

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(name for name in SECRET_SETTINGS if name not in self.skip_secrets)

    def function_env(self) -> dict[str, str]:
        """The plain environment every function gets."""
        env = dict(self.settings)
        env.update({
            "ENVIRONMENT": "production",
            "GOOGLE_CLOUD_PROJECT": self.project,
            "TASKS_BACKEND": "cloud",
            "TASKS_LOCATION": self.region,
            "TASKS_SERVICE_ACCOUNT": self.invoker_account,
            "TASKS_AUDIENCE": self.tasks_audience,
            "FUNCTIONS_BASE_URL": self.functions_base_url,
        })
        return dict(sorted(env.items()))


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            raise DeployConfigError(f"{path.name} line {number}: expected NAME=value, got {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_config(path: Path, *, project: str | None = None, region: str | None = None,
                project_number: str | None = None) -> DeployConfig:
    if not path.exists():
        raise DeployConfigError(
            f"{path} does not exist. Copy {EXAMPLE_CONFIG.name} to {DEFAULT_CONFIG.name} in deploy/ and fill it in."
        )
    values = read_env_file(path)
    deploy_keys = {k: v for k, v in values.items() if k.startswith("DEPLOY_")}
    settings = {k: v for k, v in values.items() if not k.startswith("DEPLOY_") and v != ""}

    leaked = sorted(k for k in values if not k.startswith("DEPLOY_") and looks_secret(k))
    if leaked:
        raise DeployConfigError(
            f"{', '.join(leaked)} in {path.name} look like secrets. Remove them from the file and store them in "
            "Secret Manager instead (see docs/deploy.md, 'Secrets')."
        )
    refused = sorted(k for k in settings if k in DERIVED_SETTINGS or k in LOCAL_ONLY_SETTINGS)
    if refused:
        raise DeployConfigError(
            f"{', '.join(refused)} in {path.name} are set by the deploy itself or only used locally; remove them."
        )
    skip = tuple(s.strip() for s in deploy_keys.get("DEPLOY_SKIP_SECRETS", "").split(",") if s.strip())
    unknown = sorted(set(skip) - set(SECRET_SETTINGS))
    if unknown:
        raise DeployConfigError(f"DEPLOY_SKIP_SECRETS names unknown secrets: {', '.join(unknown)}")

    project = project or deploy_keys.get("DEPLOY_PROJECT") or ""
    region = region or deploy_keys.get("DEPLOY_REGION") or ""
    ref = deploy_keys.get("DEPLOY_SUPABASE_PROJECT_REF", "")
    missing = [name for name, value in (("DEPLOY_PROJECT (or --project)", project),
                                        ("DEPLOY_REGION (or --region)", region),
                                        ("DEPLOY_SUPABASE_PROJECT_REF", ref)) if not value]
    if missing:
        raise DeployConfigError(f"Missing in {path.name}: {', '.join(missing)}")
    return DeployConfig(
        project=project,
        region=region,
        supabase_project_ref=ref,
        runtime_account_name=deploy_keys.get("DEPLOY_RUNTIME_ACCOUNT") or "shortpub-runtime",
        invoker_account_name=deploy_keys.get("DEPLOY_INVOKER_ACCOUNT") or "shortpub-tasks",
        project_number=project_number or deploy_keys.get("DEPLOY_PROJECT_NUMBER") or None,
        skip_secrets=skip,
        settings=settings,
    )
