"""`make run` / `make demo`: start the local stack, publish the demo post, serve until Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import time

from rich.console import Console
from rich.table import Table

from shared.local.demo import run_demo
from shared.local.stack import LocalStack, start


def print_urls(stack: LocalStack, console: Console) -> None:
    table = Table(title="shortpub local stack", show_header=True)
    table.add_column("part")
    table.add_column("where")
    for name, where in stack.urls.items():
        table.add_row(name, where)
    console.print(table)


def _interrupt_on_sigterm() -> None:
    """SIGTERM stops the stack like Ctrl-C does: through the same `finally`, so nothing is orphaned."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def main(argv: list[str] | None = None) -> int:
    argv = argv if argv is not None else sys.argv[1:]
    mode = argv[0] if argv else "run"
    console = Console()
    _interrupt_on_sigterm()
    console.print("[bold]Starting shortpub locally...[/bold]")
    try:
        stack = start()
    except KeyboardInterrupt:
        console.print("Stopped.")
        return 0
    try:
        print_urls(stack, console)
        # LOCAL_DEMO=0 serves without publishing the demo post first.
        ok = run_demo(stack, console) if os.environ.get("LOCAL_DEMO", "1") != "0" or mode == "demo" else True
        if mode == "demo":
            return 0 if ok else 1
        console.print("[bold green]Serving.[/bold green] Press Ctrl-C to stop.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        console.print("Stopping...")
        return 0
    finally:
        # A second Ctrl-C while stopping must not cut the shutdown short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.close()
        console.print("Stopped: PostgreSQL, the Cloud Tasks emulator and every server are down.")


if __name__ == "__main__":
    raise SystemExit(main())
