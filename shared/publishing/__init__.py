"""Publishing: posts, per-platform targets, the step state machine, retries, quotas, fan-out."""
