"""Task queue plumbing: queue definitions (`queues`), Cloud Tasks / emulator / inline queues (`client`),
OIDC checks (`oidc`).

No re-exports here: importing `shared.tasks.oidc` (every task target does, at cold start) must not
load the queue clients, and through them httpx and the platform base.
"""
