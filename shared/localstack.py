"""Entry point of `make run` and `make demo`: python -m shared.localstack run|demo."""

from shared.local.run import main

if __name__ == "__main__":
    raise SystemExit(main())
