"""`python -m shared.cli` runs the same commands as `shortpub`."""

from shared.cli import main

main()
