"""The kinds of deploy step, how each is printed (`--dry-run`) and what each runs.

A step's arguments may name a value found earlier in the same deploy as `${NAME}`
(a secret's pinned version, the notification channel's id); `Capture` and `Upsert`
find those values at run time. The dry run prints the placeholders, never a value.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\$\{([A-Z0-9_]+)\}")
RETRY_NOTE = "  # retried with backoff (IAM is eventually consistent)"


def render_args(args: tuple[str, ...]) -> str:
    """Shell-quoted; an argument holding a ${NAME} is double-quoted so a shell would expand it."""
    parts = []
    for arg in args:
        if PLACEHOLDER.search(arg):
            parts.append('"' + re.sub(r'(["\\`])', r"\\\1", arg) + '"')
        else:
            parts.append(shlex.quote(arg))
    return " ".join(parts)


@dataclass(frozen=True)
class Run:
    """Run a command; a failure stops the deploy with `problem` (or the command itself)."""

    args: tuple[str, ...]
    retry: bool = False
    problem: str | None = None

    def render(self) -> str:
        return render_args(self.args) + (RETRY_NOTE if self.retry else "")


@dataclass(frozen=True)
class Ensure:
    """Create a resource when `check` fails; otherwise run `update` (if any)."""

    check: tuple[str, ...]
    create: tuple[str, ...]
    update: tuple[str, ...] | None = None

    def render(self) -> str:
        check = f"{render_args(self.check)} >/dev/null 2>&1"
        if self.update is None:
            return f"{check} || {render_args(self.create)}"
        return f"if {check}; then {render_args(self.update)}; else {render_args(self.create)}; fi"


@dataclass(frozen=True)
class Capture:
    """Keep a command's output as ${name}; stop with `problem` when it fails or prints nothing.

    `secret`: the value is never printed. `transform` reshapes the output (its `describe`
    says how, for the dry run).
    """

    name: str
    command: tuple[str, ...]
    problem: str
    secret: bool = False
    transform: Callable[[str], str] | None = None
    describe: str = ""

    def render(self) -> str:
        notes = [n for n in (self.describe, "secret: never printed" if self.secret else "") if n]
        return f"{self.name}=$({render_args(self.command)})" + (f"  # {'; '.join(notes)}" if notes else "")


@dataclass(frozen=True)
class Upsert:
    """A resource found by a query (`find` prints its id, or nothing) is updated, else created.

    `update` may use ${FOUND}; the id (found, or printed by `create`) is kept as ${keep_as}.
    """

    find: tuple[str, ...]
    create: tuple[str, ...]
    update: tuple[str, ...] | None = None
    keep_as: str | None = None

    def render(self) -> str:
        var = self.keep_as or "FOUND"
        update = render_args(self.update).replace("${FOUND}", "${" + var + "}") if self.update else ":"
        create = render_args(self.create)
        if self.keep_as:
            create = f"{var}=$({create})"
        return f'{var}=$({render_args(self.find)}); if [ -n "${var}" ]; then {update}; else {create}; fi'


@dataclass(frozen=True)
class Prune:
    """List `kind` resources; those matching `ours` but not in `keep` are deleted when `apply` is set."""

    kind: str
    list_command: tuple[str, ...]
    ours: Callable[[str], bool]
    ours_describe: str
    keep: tuple[str, ...]
    delete: tuple[str, ...]   # "{name}" stands for each leftover
    apply: bool

    def render(self) -> str:
        action = "deleted" if self.apply else "only listed (deploy with --prune to delete them)"
        return (f"# {self.kind} left behind ({self.ours_describe}, not one of: {', '.join(self.keep)}) "
                f"are {action}: {render_args(self.list_command)}; then for each: {render_args(self.delete)}")


Step = Run | Ensure | Capture | Upsert | Prune
