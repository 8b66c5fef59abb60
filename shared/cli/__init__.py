"""The `shortpub` command line: publish, follow, schedule and look after shortpub from a terminal."""

from shared.cli.app import app, main

__all__ = ["app", "main"]
