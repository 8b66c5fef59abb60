"""The deploy configuration: a KEY=VALUE file of plain (non-secret) settings plus deploy options.

Keys starting with DEPLOY_ steer the deploy itself; every other key is handed to
every function as an environment variable. Secrets are refused here: they belong in
Secret Manager (see deploy/secrets.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from deploy.secrets import LOCAL_ONLY_SETTINGS, SECRET_SETTINGS, SECRETS_BY_ROLE, looks_secret

DEPLOY_DIR = Path(__file__).resolve().parent
DEFAULT_CONFIG = DEPLOY_DIR / "config.env"
EXAMPLE_CONFIG = DEPLOY_DIR / "config.example.env"

# Set by the deploy from its own knowledge; a config file may not override them.
DERIVED_SETTINGS = (
    "ENVIRONMENT", "GOOGLE_CLOUD_PROJECT", "TASKS_BACKEND", "TASKS_LOCATION", "TASKS_SERVICE_ACCOUNT",
    "TASKS_INVOKER_IAM_CHECK", "DB_POOL_MIN", "DB_POOL_MAX",
)

# How public functions are opened to the internet. Google recommends turning Cloud Run's
# invoker IAM check off: granting `allUsers` is refused by the domain-restricted-sharing
# organisation policy (https://cloud.google.com/run/docs/authenticating/public).
PUBLIC_ACCESS_MODES = ("no-invoker-iam-check", "allow-unauthenticated")

# Service account roles: who runs what. `tasks` signs the OIDC tokens of Cloud Tasks and
# Cloud Scheduler; `build` builds the functions' images.
ACCOUNT_DEFAULTS = {
    "api": "shortpub-api", "worker": "shortpub-worker", "tick": "shortpub-tick",
    "tasks": "shortpub-tasks", "build": "shortpub-build",
}
ACCOUNT_TITLES = {
    "api": "shortpub public API functions", "worker": "shortpub publish workers",
    "tick": "shortpub scheduler tick", "tasks": "shortpub task and scheduler caller",
    "build": "shortpub function builds",
}


class DeployConfigError(ValueError):
    """The deploy configuration is incomplete or unsafe; the message says what to change."""


@dataclass(frozen=True)
class DeployConfig:
    project: str
    region: str
    alert_email: str
    db_max_connections: int = 200
    # The part of db_max_connections the publish workers may hold (deploy/functions.py).
    worker_db_share: float = 0.5
    public_access: str = "no-invoker-iam-check"
    account_names: dict[str, str] = field(default_factory=lambda: dict(ACCOUNT_DEFAULTS))
    skip_secrets: tuple[str, ...] = ()
    settings: dict[str, str] = field(default_factory=dict)

    def account(self, role: str) -> str:
        return f"{self.account_names[role]}@{self.project}.iam.gserviceaccount.com"

    @property
    def invoker_account(self) -> str:
        return self.account("tasks")

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

    def role_secrets(self, role: str) -> tuple[str, ...]:
        return tuple(name for name in SECRETS_BY_ROLE[role] if name not in self.skip_secrets)

    def function_env(self) -> dict[str, str]:
        """The plain environment every function gets (each function adds its own pool size)."""
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


def load_config(path: Path, *, project: str | None = None, region: str | None = None) -> DeployConfig:
    if not path.exists():
        raise DeployConfigError(
            f"{path} does not exist. Copy {EXAMPLE_CONFIG.name} to {DEFAULT_CONFIG.name} in deploy/ and fill it in."
        )
    values = read_env_file(path)
    deploy_keys = {k: v for k, v in values.items() if k.startswith("DEPLOY_")}
    settings = {k: v for k, v in values.items() if not k.startswith("DEPLOY_") and v != ""}

    known = {"DEPLOY_PROJECT", "DEPLOY_REGION", "DEPLOY_ALERT_EMAIL", "DEPLOY_PUBLIC_ACCESS",
             "DEPLOY_DB_MAX_CONNECTIONS", "DEPLOY_WORKER_DB_SHARE", "DEPLOY_SKIP_SECRETS",
             *(f"DEPLOY_{role.upper()}_ACCOUNT" for role in ACCOUNT_DEFAULTS)}
    strange = sorted(set(deploy_keys) - known)
    if strange:
        raise DeployConfigError(
            f"{', '.join(strange)} in {path.name} mean nothing to this deploy (a typo, or a key of an older "
            f"version); the keys are listed in {EXAMPLE_CONFIG.name} and docs/deploy.md."
        )
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
    if "DATABASE_URL" in skip:
        raise DeployConfigError("DATABASE_URL cannot be skipped: every function and the migrations need it.")

    project = project or deploy_keys.get("DEPLOY_PROJECT") or ""
    region = region or deploy_keys.get("DEPLOY_REGION") or ""
    alert_email = deploy_keys.get("DEPLOY_ALERT_EMAIL", "")
    missing = [name for name, value in (("DEPLOY_PROJECT (or --project)", project),
                                        ("DEPLOY_REGION (or --region)", region),
                                        ("DEPLOY_ALERT_EMAIL", alert_email)) if not value]
    if missing:
        raise DeployConfigError(f"Missing in {path.name}: {', '.join(missing)}")
    if "@" not in alert_email:
        raise DeployConfigError(f"DEPLOY_ALERT_EMAIL must be an email address, got {alert_email!r}")
    public_access = deploy_keys.get("DEPLOY_PUBLIC_ACCESS") or PUBLIC_ACCESS_MODES[0]
    if public_access not in PUBLIC_ACCESS_MODES:
        raise DeployConfigError(f"DEPLOY_PUBLIC_ACCESS must be one of {', '.join(PUBLIC_ACCESS_MODES)}, "
                                f"got {public_access!r}")
    raw_budget = deploy_keys.get("DEPLOY_DB_MAX_CONNECTIONS") or "200"
    if not raw_budget.isdigit() or int(raw_budget) < 1:
        raise DeployConfigError(f"DEPLOY_DB_MAX_CONNECTIONS must be a positive whole number, got {raw_budget!r}")
    raw_share = deploy_keys.get("DEPLOY_WORKER_DB_SHARE") or "0.5"
    try:
        worker_share = float(raw_share)
    except ValueError:
        worker_share = -1.0
    if not 0 < worker_share < 1:
        raise DeployConfigError(f"DEPLOY_WORKER_DB_SHARE must be a fraction between 0 and 1 (e.g. 0.5), "
                                f"got {raw_share!r}")
    accounts = {role: deploy_keys.get(f"DEPLOY_{role.upper()}_ACCOUNT") or name
                for role, name in ACCOUNT_DEFAULTS.items()}
    return DeployConfig(
        project=project,
        region=region,
        alert_email=alert_email,
        db_max_connections=int(raw_budget),
        worker_db_share=worker_share,
        public_access=public_access,
        account_names=accounts,
        skip_secrets=skip,
        settings=settings,
    )
