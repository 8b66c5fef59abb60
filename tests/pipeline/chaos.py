"""A chaos run of the publishing pipeline, shared by the suite's test and the benchmark.

Posts go to all five integrations at once. Every task is delivered two or three times,
the copies shuffled and run concurrently on worker threads. About one platform call in
ten fails: 5xx, 429, timeouts, dropped connections, expired tokens (the user reconnects)
and answers lost after the platform acted, on every call the adapters make, the
read-only questions of reconciliation included. Now and then a worker dies in the middle
of a call, before or after the platform acted (its lease runs out, the tick takes over).
The scheduler tick runs on a controlled clock until every target is final.

What the platforms hold at the end is compared with the targets: `check` lists every
double post, lost target and target `failed` whose video is live.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from sandbox.core import Fault
from tests.pipeline.conftest import HANG_SECONDS, HTTP_TIMEOUT
from tests.support.stack import Harness

INTEGRATIONS = ("tiktok", "blotato", "instagram", "facebook", "youtube")
# The calls each adapter makes while publishing (not the OAuth flows), as the sandbox names them.
CALLS = {
    "tiktok": ("creator_info", "init", "upload", "status"),
    "blotato": ("media", "create_post", "get_post", "list_posts"),
    "instagram": ("create_container", "container_status", "publishing_limit", "publish", "media", "media_list"),
    "facebook": ("start", "upload", "finish", "status", "permalink"),
    "youtube": ("insert", "upload", "upload_status", "list"),
}
# The irreversible call of each integration, and how its answer gets lost after it acted.
LOST_ANSWER = {
    "tiktok": ("upload", "slow"),
    "blotato": ("create_post", "lost_response"),
    "instagram": ("publish", "publish_then_reset"),
    "facebook": ("finish", "finish_then_reset"),
    "youtube": ("upload", "lost_response"),
}
# Share of calls each kind hits (about 10% of calls in all).
RATES = {"server_error": 0.03, "reset": 0.02, "rate_limited": 0.02, "timeout": 0.01, "expired_token": 0.01}
# The reads that reconcile a lost answer fail more often, so the run meets those failures.
RECONCILE_READS = {"blotato": "list_posts", "instagram": "container_status", "facebook": "status",
                   "tiktok": "status", "youtube": "upload_status"}
RECONCILE_RATES = {"rate_limited": 0.06, "expired_token": 0.04, "server_error": 0.04, "timeout": 0.02}
LOST_RATE = 0.10
KILL_RATE = 0.01       # a worker dies at this share of calls (half before sending, half after the answer)
FINAL = ("published", "failed", "canceled")
_MARK = re.compile(r"Chaos post (\d+)")


class WorkerKilled(BaseException):
    """The worker process died here (no `except Exception` in the pipeline sees it)."""


@dataclass
class ChaosRun:
    harness: Harness
    seed: int
    posts: int
    users: int
    threads: int = 6
    rng: random.Random = field(init=False)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)     # id -> {platform, post, user}
    deliveries: int = 0
    kills: int = 0
    reconnects: int = 0
    ticks: int = 0
    crashes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ setup

    def publish_all(self, video_path: Any) -> None:
        from sandbox.oauth import _default_account
        from shared.errors import QuotaExceeded
        from tests.conftest import make_user

        h = self.harness
        for u in range(self.users):
            user = make_user(h.db, f"chaos-{self.seed}-{u}@example.com")
            connections = {}
            for platform in INTEGRATIONS:   # each user their own accounts (per-account limits)
                if platform == "blotato":
                    connections[platform] = h.connect_blotato(user)
                else:
                    account = _default_account(h.sandbox.sandbox, platform)["id"]
                    connections[platform] = h.connect(user, platform, sandbox_account=account)
            video_id = h.video(user, video_path)
            for i in range(u, self.posts, self.users):
                wanted = list(INTEGRATIONS)
                while wanted:
                    try:
                        answer = h.publish(user, video_id=video_id, caption=f"Chaos post {i:05d}",
                                           targets=[_target_request(p, connections[p]) for p in wanted])
                        break
                    except QuotaExceeded as refused:   # a daily budget is used up (YouTube's project bucket)
                        assert refused.code == "over_platform_limit", refused
                        wanted.remove(refused.detail["platform"])
                for target in answer["targets"]:
                    self.targets[target["target_id"]] = {"platform": target["platform"], "post": i, "user": user}

    def inject_faults(self) -> None:
        sb = self.harness.sandbox.sandbox
        sb.random.seed(self.seed)
        for platform, (operation, kind) in LOST_ANSWER.items():
            sb.add_fault(Fault(platform=platform, operation=operation, kind=kind, times=-1, rate=LOST_RATE,
                               delay_s=HTTP_TIMEOUT + 0.3))
        for platform, operation in RECONCILE_READS.items():
            for kind, rate in RECONCILE_RATES.items():
                sb.add_fault(Fault(platform=platform, operation=operation, kind=kind, times=-1, rate=rate,
                                   delay_s=HANG_SECONDS))
        for platform, operations in CALLS.items():
            for operation in operations:
                for kind, rate in RATES.items():
                    sb.add_fault(Fault(platform=platform, operation=operation, kind=kind, times=-1, rate=rate,
                                       delay_s=HANG_SECONDS))
        self._kill_workers_mid_call()

    def _kill_workers_mid_call(self) -> None:
        rt = self.harness.rt
        rng = random.Random(self.seed + 1)
        timeout = httpx.Timeout(HTTP_TIMEOUT)

        def before_sending(request: httpx.Request) -> None:
            if rng.random() < KILL_RATE / 2:
                self._killed()

        def after_the_answer(response: httpx.Response) -> None:
            if rng.random() < KILL_RATE / 2:
                self._killed()

        def adapter_for(key: str) -> Any:
            from shared.platforms import adapter_class

            hooks = {"request": [before_sending], "response": [after_the_answer]}
            return adapter_class(key)(http=httpx.Client(timeout=timeout, event_hooks=hooks))

        rt.adapter_for = adapter_for
        rt.adapters_cache.clear()

    def _killed(self) -> None:
        with self._lock:
            self.kills += 1
        raise WorkerKilled()

    # ------------------------------------------------------------------ driving

    def deliver(self, payload: dict[str, Any]) -> str:
        from shared.publishing.worker import advance

        try:
            return advance(self.harness.rt, payload["target_id"], payload.get("seq"))
        except WorkerKilled:
            return "killed"   # the lease stays until it runs out; the tick takes the target over
        except Exception as exc:  # noqa: BLE001 - a crash of the pipeline itself is a finding
            with self._lock:
                self.crashes.append(f"{payload}: {exc!r}")
            return "crashed"

    def run(self, max_rounds: int = 20_000, max_days: float = 4.0) -> None:
        h = self.harness
        started = h.clock.now
        with ThreadPoolExecutor(self.threads) as pool:
            for _ in range(max_rounds):
                due = []
                while (task := h.queue._pop(h.clock.now)) is not None:
                    due.append(task.payload)
                if due:
                    # At-least-once: every task two or three times, in any order, at the same time.
                    batch = [p for p in due for _ in range(self.rng.choice((2, 3)))]
                    self.rng.shuffle(batch)
                    self.deliveries += len(batch)
                    list(pool.map(self.deliver, batch))
                    continue
                states = self.states()
                if all(s in FINAL for s, _ in states.values()) and not any(link for _, link in states.values()):
                    return
                if h.clock.now - started > timedelta(days=max_days):
                    return
                self._reconnect_parked(states)
                pending = h.queue.pending()
                step = timedelta(minutes=5)
                h.clock.now = max(h.clock.now + timedelta(seconds=1),
                                  min(pending[0].run_at, h.clock.now + step) if pending else h.clock.now + step)
                h.tick()   # the minute tick's safety net, on the controlled clock
                self.ticks += 1

    def states(self) -> dict[str, tuple[str, bool]]:
        with self.harness.db.service() as conn:
            rows = conn.execute("select id, state, step_data from publish_targets where id = any(%s::uuid[])",
                                (list(self.targets),)).fetchall()
        return {str(r["id"]): (r["state"], bool((r["step_data"] or {}).get("link_pending"))) for r in rows}

    def _reconnect_parked(self, states: dict[str, tuple[str, bool]]) -> None:
        parked = [t for t, (s, _) in states.items() if s == "needs_reconnect"]
        if not parked:
            return
        h = self.harness
        sb = h.sandbox.sandbox
        with h.db.service() as conn:
            rows = conn.execute("select t.id, t.connection_id, t.platform, c.platform_account_id "
                                "from publish_targets t join social_connections c on c.id = t.connection_id "
                                "where t.id = any(%s::uuid[])", (parked,)).fetchall()
        connections = {str(r["connection_id"]): r for r in rows}
        with sb.lock:   # the user reconnects through the real OAuth flow, which is not under test here
            saved, sb.faults = sb.faults, []
        try:
            for row in connections.values():
                user = self.targets[str(row["id"])]["user"]
                if row["platform"] == "blotato":
                    h.connect_blotato(user)
                else:
                    account = str(row["platform_account_id"])
                    if row["platform"] == "facebook":   # the connection is the Page; its owner signs in
                        account = sb.account("facebook", account)["owner"]
                    h.connect(user, row["platform"], sandbox_account=account)
                self.reconnects += 1
        finally:
            with sb.lock:
                sb.faults = saved

    # ------------------------------------------------------------------ verdict

    def live_posts(self) -> Counter[tuple[str, int]]:
        """(integration, post number) -> how many copies of that video are live on the platform."""
        sb = self.harness.sandbox.sandbox
        live: Counter[tuple[str, int]] = Counter()
        for record in list(sb.store("tiktok").get("publishes", {}).values()):
            complete = record.get("complete_at") and record.get("state") != "FAILED"
            if record.get("state") == "PUBLISH_COMPLETE" or complete:
                _count(live, "tiktok", (record.get("post_info") or {}).get("title"))
        for post in list(sb.store("blotato").get("posts", {}).values()):
            if post.get("status") != "failed" and not post.get("fail_message"):
                _count(live, "blotato", post.get("text"))
        for platform in ("instagram", "facebook", "youtube"):
            for entry in sb.published_for(platform):
                _count(live, platform, entry.get("caption"))
        return live

    def check(self) -> dict[str, list[str]]:
        live = self.live_posts()
        with self.harness.db.service() as conn:
            rows = conn.execute("select id, platform, state, platform_url, user_message from publish_targets "
                                "where id = any(%s::uuid[])", (list(self.targets),)).fetchall()
        problems: dict[str, list[str]] = {"double_posts": [], "lost": [], "failed_but_live": [],
                                          "published_but_not_live": [], "crashes": list(self.crashes)}
        for row in rows:
            target = self.targets[str(row["id"])]
            copies = live[(row["platform"], target["post"])]
            label = f"{row['platform']} post {target['post']} ({row['state']}: {row['user_message']})"
            if copies > 1:
                problems["double_posts"].append(label)
            if row["state"] not in FINAL:
                problems["lost"].append(label)
            if row["state"] == "failed" and copies:
                problems["failed_but_live"].append(label)
            if row["state"] == "published" and not copies:
                problems["published_but_not_live"].append(label)
        if len(rows) != len(self.targets):
            problems["lost"].append(f"{len(self.targets) - len(rows)} targets missing from the database")
        return problems

    def summary(self) -> dict[str, Any]:
        states = Counter(s for s, _ in self.states().values())
        sb = self.harness.sandbox.sandbox
        return {"targets": len(self.targets), "states": dict(states), "deliveries": self.deliveries,
                "faults_hit": len(sb.calls_faulted), "kills": self.kills, "reconnects": self.reconnects,
                "ticks": self.ticks, "simulated_hours": None}


def _count(live: Counter[tuple[str, int]], platform: str, caption: Any) -> None:
    found = _MARK.search(str(caption or ""))
    if found:
        live[(platform, int(found.group(1)))] += 1


def _target_request(platform: str, connection_id: str) -> dict[str, Any]:
    request: dict[str, Any] = {"platform": platform, "connection_id": connection_id}
    if platform in ("tiktok", "blotato"):
        request["options"] = {"privacy_level": "PUBLIC_TO_EVERYONE", "consent": True}
    if platform == "youtube":
        request["title"] = "Chaos"
    return request


def timed(run: ChaosRun, video_path: Any) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Publish, inject the chaos, run to the end; (problems, figures)."""
    started = time.monotonic()
    clock_start = run.harness.clock.now
    run.publish_all(video_path)
    set_up = time.monotonic()
    run.inject_faults()
    run.run()
    finished = time.monotonic()
    figures = run.summary()
    figures.update(setup_seconds=round(set_up - started, 1), run_seconds=round(finished - set_up, 1),
                   simulated_hours=round((run.harness.clock.now - clock_start).total_seconds() / 3600, 1))
    return run.check(), figures
