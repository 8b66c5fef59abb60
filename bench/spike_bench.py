"""Spike: 10,000 targets scheduled for the same minute over 2,000 users.

    .venv/bin/python -m bench spike_bench     # BENCH_SPIKE_TARGETS=10000, BENCH_SPIKE_USERS=2000

Two parts, measured in one run:

1. Delivery through the Cloud Tasks emulator. Each target's task is created ahead
   with its slot as schedule time (as `shared.publishing.slots` does when a post is
   scheduled); a plain HTTP receiver stands in for the worker endpoint and answers
   200 at once (the platforms are not called). Measured: slot -> every task delivered.
   The emulator ignores queue rate limits (shared/tasks/emulator.py), so this is the
   mechanism's figure; what the production queues' rates allow is stated beside it.
2. The tick's claim round in a throwaway database (2,000 users, 10,000 scheduled
   targets at the slot): at the slot it finds nothing to claim (the tasks have it);
   if every task were lost, it drains all 10,000 once they are overdue, in rounds of
   1,000 with concurrent enqueue calls (to a queue that only counts them).
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TARGETS = int(os.environ.get("BENCH_SPIKE_TARGETS", "10000"))
USERS = int(os.environ.get("BENCH_SPIKE_USERS", "2000"))
PLATFORMS = ("tiktok", "instagram", "youtube", "facebook")
CREATE_CONCURRENCY = 32
SERIAL_SAMPLE = 200
GOAL_DELIVERY_S = 30.0
GOAL_CLAIM_S = 1.0
OLD_TICK_PER_MINUTE = 1000


class Receiver:
    """The worker endpoint's stand-in: records when each task arrives, answers 200."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.arrivals.append(time.time())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, platform: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/publish-{platform}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def delivery_part() -> dict[str, Any]:
    from shared.tasks.client import CloudTasksQueue, task_id_for
    from shared.tasks.emulator import TasksEmulator
    from shared.tasks.queues import publish_queue_name

    receiver = Receiver()
    with TasksEmulator(max_retries=0) as emulator:
        queue = CloudTasksQueue(emulator.project, emulator.location, service_account_email=None, audience=None,
                                emulator_host=emulator.host)
        # Far enough ahead that every task exists before the slot (creation is timed below).
        lead = float(os.environ.get("BENCH_SPIKE_LEAD_SECONDS", str(max(60.0, TARGETS / 100))))
        slot = time.time() + lead
        targets = [(str(uuid.uuid4()), PLATFORMS[n % len(PLATFORMS)]) for n in range(TARGETS)]

        def create(target: tuple[str, str]) -> float:
            target_id, platform = target
            started = time.perf_counter()
            queue.enqueue(queue=publish_queue_name(platform), task_id=task_id_for(target_id, 0),
                          url=receiver.url(platform), payload={"target_id": target_id, "seq": 0},
                          delay_seconds=slot - time.time())
            return time.perf_counter() - started

        # The old tick's way: one CreateTask after the other (these are due long after the run).
        serial = []
        for n in range(SERIAL_SAMPLE):
            started = time.perf_counter()
            queue.enqueue(queue=publish_queue_name("facebook"), task_id=task_id_for(f"serial-{n}", 0),
                          url=receiver.url("facebook"), payload={"target_id": f"serial-{n}", "seq": 0},
                          delay_seconds=3600.0)
            serial.append(time.perf_counter() - started)
        created_at = time.perf_counter()
        with ThreadPoolExecutor(CREATE_CONCURRENCY) as pool:
            rpc_seconds = list(pool.map(create, targets))
        creation_s = time.perf_counter() - created_at
        if time.time() >= slot:
            raise RuntimeError(f"creating {TARGETS} tasks took {creation_s:.0f} s, past the slot: raise "
                               "BENCH_SPIKE_LEAD_SECONDS")
        early = len(receiver.arrivals)
        deadline = slot + 600
        while len(receiver.arrivals) < TARGETS and time.time() < deadline:
            time.sleep(0.05)
        arrivals = list(receiver.arrivals)
    receiver.stop()
    lateness = [at - slot for at in arrivals]
    return {
        "creation_s": creation_s,
        "rpc_median_ms": statistics.median(rpc_seconds) * 1000,
        "serial_median_ms": statistics.median(serial) * 1000,
        "delivered": len(arrivals),
        "early": early + sum(1 for late in lateness if late < 0),
        "all_delivered_s": max(lateness) if lateness else float("nan"),
        "p50_s": _percentile(lateness, 0.5),
        "p99_s": _percentile(lateness, 0.99),
    }


def _load(conn: Any, slot: datetime) -> None:
    users = [str(uuid.uuid4()) for _ in range(USERS)]
    with conn.cursor() as cur:
        cur.executemany("insert into auth.users (id, email) values (%s, %s)",
                        [(u, f"spike-{n}@example.test") for n, u in enumerate(users)])
    conn.execute("set session_replication_role = replica")  # no triggers for the synthetic load
    conn.execute("""
        insert into videos (user_id, storage_path, size_bytes) select id, id || '/v.mp4', 1000 from auth.users
    """)
    conn.execute("""
        insert into social_connections (user_id, platform, platform_account_id, username)
        select u.id, p.platform, 'acct-' || p.platform || '-' || u.id, 'spike'
          from auth.users u cross join unnest(%s::text[]) as p(platform)
    """, (list(PLATFORMS),))
    conn.execute("""
        insert into posts (user_id, video_id, caption) select user_id, id, 'spike' from videos
    """)
    # TARGETS targets, spread evenly over the users' posts and the four platforms, all at the slot.
    conn.execute("""
        with numbered as (select row_number() over (order by id) - 1 as n, id, user_id from posts)
        insert into publish_targets (user_id, post_id, connection_id, platform, state, scheduled_at, next_attempt_at)
        select p.user_id, p.id, c.id, c.platform, 'scheduled', %(slot)s, %(slot)s
          from generate_series(0, %(targets)s - 1) g
          join numbered p on p.n = g %% %(users)s
          join social_connections c on c.user_id = p.user_id and c.platform = (%(platforms)s::text[])[1 + g %% 4]
    """, {"slot": slot, "targets": TARGETS, "users": USERS, "platforms": list(PLATFORMS)})
    conn.execute("set session_replication_role = origin")


class CountingQueue:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def enqueue(self, **task: Any) -> bool:
        with self.lock:
            self.count += 1
        return True


def tick_part() -> dict[str, Any]:
    import psycopg

    from shared.db import Database, migrate
    from shared.db import local as localdb
    from shared.publishing import tick
    from shared.publishing.runtime import Runtime

    admin = localdb.admin_url()
    name = f"shortpub_bench_spike_{os.getpid()}"
    url = localdb.create_database(admin, name)
    try:
        migrate.apply(url, local=True)
        slot = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=5)
        with psycopg.connect(url) as conn:
            _load(conn, slot)
            conn.commit()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("vacuum analyze publish_targets")
        db = Database(url, min_size=1, max_size=4)
        queue = CountingQueue()
        rt = Runtime(db=db, queue=queue, credentials=None, media=None, adapter_for=None, frontend_url="",  # type: ignore[arg-type]
                     worker_url=lambda platform: f"http://worker/{platform}", connection_expired=None)  # type: ignore[arg-type]
        try:
            started = time.perf_counter()
            at_slot = tick.claim_due(rt, slot)
            at_slot_s = time.perf_counter() - started

            rounds: list[float] = []
            original = tick.claim_due

            def timed(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
                begun = time.perf_counter()
                claimed = original(*args, **kwargs)
                rounds.append(time.perf_counter() - begun)
                return claimed

            overdue = slot + timedelta(seconds=rt.stale_after_seconds)
            tick.claim_due = timed  # type: ignore[assignment]
            try:
                started = time.perf_counter()
                drained = tick.enqueue_due(rt, overdue)
                drain_s = time.perf_counter() - started
            finally:
                tick.claim_due = original  # type: ignore[assignment]
        finally:
            db.close()
    finally:
        localdb.drop_database(admin, name)
    return {"at_slot": len(at_slot), "at_slot_ms": at_slot_s * 1000, "drained": drained, "enqueued": queue.count,
            "rounds": len(rounds), "round_max_ms": max(rounds) * 1000,
            "round_median_ms": statistics.median(rounds) * 1000, "drain_s": drain_s}


# Computed production figures: how long one step at the slot holds a worker instance (one platform
# call and two short transactions). An assumption, not a measurement: real platforms answer in 0.3-2 s.
ASSUMED_STEP_S = 1.0
# Connection budgets the production figures are computed for: the example deploy's and a larger pooler's.
BUDGETS = (200, 800)


def production_sizing(per_queue: float) -> str:
    """Computed, not measured: each publish queue's rate and concurrency as the deploy sets them
    (deploy/functions.py at DEPLOY_DB_MAX_CONNECTIONS = each of BUDGETS, DEPLOY_WORKER_DB_SHARE
    default), and the slot -> every first step delivered time they allow for `per_queue` tasks."""
    import math
    from pathlib import Path

    from deploy.functions import DEFAULT_WORKER_DB_SHARE, fit_connection_budget, function_specs
    from shared.platforms import adapters
    from shared.tasks.queues import queue_specs

    queues = queue_specs()
    modules = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "functions").glob("*.py")
                     if not p.stem.startswith("_"))
    specs = function_specs(modules, list(adapters()), queues)
    rows = []
    for budget in BUDGETS:
        fitted = {f.name: f.sizing for f in fit_connection_budget(specs, budget, DEFAULT_WORKER_DB_SHARE)}
        for platform in PLATFORMS:
            queue = queues[f"publish-{platform}"]
            concurrent = min(queue.max_concurrent_dispatches, fitted[queue.name].max_instances)
            by_rate = per_queue / queue.max_dispatches_per_second
            by_concurrency = math.ceil(per_queue / concurrent) * ASSUMED_STEP_S
            rows.append(f"| {budget} | {platform} | {queue.max_dispatches_per_second:g}/s | {concurrent} "
                        f"| {by_rate:.0f} s | {by_concurrency:,.0f} s |")
    return "\n".join(rows)


def run() -> str:
    from shared.tasks.queues import publish_queue_spec

    t = tick_part()
    d = delivery_part()
    per_queue = TARGETS / len(PLATFORMS)
    rates = {p: publish_queue_spec(p).max_dispatches_per_second for p in PLATFORMS}
    rate_lines = ", ".join(f"{p} {r:g}/s" for p, r in rates.items())
    old_ticks = -(-TARGETS // OLD_TICK_PER_MINUTE)
    old_serial_s = OLD_TICK_PER_MINUTE * d["serial_median_ms"] / 1000
    delivered_ok = d["delivered"] == TARGETS and d["all_delivered_s"] <= GOAL_DELIVERY_S
    return f"""## Spike: {TARGETS:,} targets due in the same minute ({USERS:,} users)

Command: `.venv/bin/python -m bench spike_bench` (machine: {os.cpu_count()} cores, shared with other work
during the run). Targets spread evenly over TikTok, Instagram, YouTube and Facebook ({per_queue:,.0f} each).

**Delivery through the Cloud Tasks emulator** (each task created ahead with the slot as schedule time,
{CREATE_CONCURRENCY} CreateTask calls in flight; the worker endpoint is a receiver answering 200 at once,
the platforms are not called):

| tasks delivered | before the slot | slot → p50 | slot → p99 | slot → every task delivered | goal |
|---:|---:|---:|---:|---:|---|
| {d['delivered']:,} of {TARGETS:,} | {d['early']} | {d['p50_s']:.1f} s | {d['p99_s']:.1f} s \
| {d['all_delivered_s']:.1f} s | ≤ {GOAL_DELIVERY_S:.0f} s ({'meets' if delivered_ok else 'misses'}) |

Creating the {TARGETS:,} tasks (done when each post is scheduled, so spread over days in production) took
{d['creation_s']:.1f} s here (median CreateTask {d['rpc_median_ms']:.1f} ms).
The emulator ignores queue rate limits. Production Cloud Tasks dispatches at most each queue's
`max_dispatches_per_second` (shared/tasks/queues.py: {rate_lines}; Cloud Tasks' maximum, 500/s, unless
the platform caps the whole project: Blotato's 10 posts a minute keep its queue at 0.17/s), and at most
`max_concurrent_dispatches` at once, which the deploy caps at the worker's instances, sized from the
database connection budget (`DEPLOY_DB_MAX_CONNECTIONS`, of which the workers may hold
`DEPLOY_WORKER_DB_SHARE`, 0.5; two connections per instance; deploy/functions.py).

**Production, computed (not measured)** from those settings, {per_queue:,.0f} tasks per queue, each first step
holding a worker {ASSUMED_STEP_S:g} s (an assumption: one platform call and two short transactions):

| DB budget | queue | rate | in flight | slot → all delivered, by rate | by concurrency |
|---:|---|---:|---:|---:|---:|
{production_sizing(per_queue)}

So the rate no longer spreads a slot's work (5 s at 500/s, where 5/s took 500 s); the steps in flight do:
at 200 connections the budget bounds them, at 800 each platform's own cap (YouTube 5, TikTok 10, others 20,
`concurrent_dispatches` in its descriptor). With staging, YouTube and Facebook need only a read at the slot
(they publish by themselves), while Instagram's media_publish and TikTok's upload start then: for those,
the 30 s goal at {per_queue:,.0f} posts needs about {per_queue * ASSUMED_STEP_S / GOAL_DELIVERY_S:.0f} steps in
flight per queue, i.e. a higher cap and about {2 * per_queue * ASSUMED_STEP_S / GOAL_DELIVERY_S:.0f} connections
per queue for its workers.

**The tick's claim round** (throwaway database, {USERS:,} users, {TARGETS:,} scheduled targets at the slot):

| | figure | goal |
|---|---:|---|
| tick at the slot: targets claimed (the tasks have them) | {t['at_slot']} in {t['at_slot_ms']:.0f} ms | |
| every task lost: drained once overdue (slot + stale limit) \
| {t['drained']:,} in {t['drain_s']:.1f} s, {t['rounds']} rounds | |
| claim round (1,000 rows), median / slowest | {t['round_median_ms']:.0f} ms / {t['round_max_ms']:.0f} ms \
| < {GOAL_CLAIM_S * 1000:.0f} ms ({'meets' if t['round_max_ms'] < GOAL_CLAIM_S * 1000 else 'misses'}) |

**The old design beside it:** the minute tick found scheduled targets at their slot, claimed at most
{OLD_TICK_PER_MINUTE:,} per run and enqueued them one CreateTask at a time: {TARGETS:,} targets need
{old_ticks} ticks, so the last ones started {old_ticks - 1} minutes after the slot (plus up to a minute of
tick phase), each tick spending ≈ {old_serial_s:.0f} s on {OLD_TICK_PER_MINUTE:,} serial CreateTask calls (median
{d['serial_median_ms']:.1f} ms each, {SERIAL_SAMPLE} measured one after the other here).
"""


if __name__ == "__main__":
    print(run())
