"""Analytics: query latency for a heavy user, and the A/B test's error rates.

    .venv/bin/python -m bench analytics_bench     # BENCH_ANALYTICS_TARGETS, BENCH_AB_EXPERIMENTS

1. Latency: a throwaway database (created, migrated, dropped here) with one user who
   has 5,000 published targets over 60 days and a snapshot per target per day
   (`tests.support.history.simulate`, numbers from the sandbox's audience model).
   Each report is asked 20 times through the user's own transaction (RLS on); p50/p95.
2. A/B error rates: many simulated two-variant experiments at the default decision rule
   (engagement rate at 72 h, 5,000 views per variant, alpha 0.05). Each variant's counts
   come from the sandbox's model for fresh post ids: with no planted lift, how often a
   winner is declared (must stay at or under alpha); with a planted 20% lift, how often
   the better variant wins (the rule's power) and how often the worse one does.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

TARGETS = int(os.environ.get("BENCH_ANALYTICS_TARGETS", "5000"))
EXPERIMENTS = int(os.environ.get("BENCH_AB_EXPERIMENTS", "10000"))
DAYS = 60
ROUNDS = 20
GOAL_MS = 200.0


def _latency(url: str) -> tuple[list[tuple[str, float, float]], dict[str, Any], str, str]:
    from shared.analytics import insights, report
    from shared.analytics.history import _OUTCOMES, AGES, COMPARISON_AGE
    from shared.analytics.settings import AnalyticsSettings
    from shared.db import Database
    from tests.conftest import make_user
    from tests.support.history import simulate
    from tests.support.stack import as_user

    db = Database(url, min_size=1, max_size=2)
    try:
        user = make_user(db)
        end = datetime(2026, 11, 1, tzinfo=UTC)
        started = time.perf_counter()
        made = simulate(db, user["sub"], days=DAYS, posts_per_day=max(1, TARGETS // DAYS), end=end)
        load_s = time.perf_counter() - started
        with db.service() as conn:
            conn.execute("analyze")
        who = as_user(user)
        settings = AnalyticsSettings()
        everything = insights.InsightsQuery()
        some_post = None
        with db.service() as conn:
            row = conn.execute("select post_id from publish_targets where user_id = %s limit 1",
                               (user["sub"],)).fetchone()
            assert row is not None, "the simulated history has targets"
            some_post = str(row["post_id"])
        queries = {
            "recommendations (all posts)": lambda: insights.recommendations(db, who, everything, settings),
            "compare platforms (all posts)": lambda: insights.compare(db, who, everything, settings),
            "overview JSON (latest 500 + daily series)": lambda: report.overview(db, who, report.AnalyticsQuery()),
            "one post's metrics with its series": lambda: report.post_metrics(db, who, some_post),
        }
        results = []
        for name, call in queries.items():
            call()  # warm
            seconds = []
            for _ in range(ROUNDS):
                start = time.perf_counter()
                call()
                seconds.append(time.perf_counter() - start)
            seconds.sort()
            results.append((name, statistics.median(seconds) * 1000, seconds[int(0.95 * (len(seconds) - 1))] * 1000))
        start = time.perf_counter()
        rows = sum(1 for _ in report.overview_csv(db, who, report.AnalyticsQuery()))
        csv_s = time.perf_counter() - start
        with db.user(user) as conn:
            plan_outcomes = "\n".join(r["QUERY PLAN"] for r in conn.execute(
                "explain (analyze, costs off) " + _OUTCOMES,
                {"age": AGES[COMPARISON_AGE], "start": None, "end": None, "platforms": None, "connection": None,
                 "campaign": None}).fetchall())
            plan_daily = "\n".join(r["QUERY PLAN"] for r in conn.execute(
                "explain (analyze, costs off) " + report._DAILY,
                report.AnalyticsQuery().model_dump(by_alias=False)).fetchall())
        facts = {"targets": made.targets, "snapshots": made.snapshots, "load_s": load_s, "csv_rows": rows - 1,
                 "csv_s": csv_s}
        return results, facts, plan_outcomes, plan_daily
    finally:
        db.close()


def _error_rates() -> dict[str, float]:
    from sandbox.core import Sandbox
    from sandbox.engagement import engagement
    from shared.analytics.experiments import decide

    rule = {"min_views_per_variant": 5000, "alpha": 0.05, "metric": "engagement_rate"}
    hour = datetime(2026, 11, 4, 19, tzinfo=UTC).timestamp()
    age = 72 * 3600

    def variant(sb: Sandbox, label: str, caption: str, posts: int) -> dict[str, Any]:
        views = engagements = 0
        for _ in range(posts):
            counts = engagement(sb, uuid.uuid4().hex, hour, hour + age, platform="instagram", caption=caption)
            views += counts.views
            engagements += counts.likes + counts.comments + counts.shares
        return {"label": label, "variant_id": label, "complete": True, "views": views, "engagements": engagements,
                "engagement_rate": engagements / views, "measured": posts, "posts": []}

    found: dict[str, float] = {}
    for name, lift in (("no lift", 1.0), ("20% lift", 1.2)):
        sb = Sandbox()
        sb.config["variant_lift"] = {"[B]": lift}
        winners = {"A": 0, "B": 0, None: 0}
        undecided = 0
        for _ in range(EXPERIMENTS):
            # Posts per variant: enough to pass the 5,000-view sample at 72 hours (about 2,500 each).
            numbers = {"variants": [variant(sb, "A", "Classic latte [A]", 3), variant(sb, "B", "Oat latte [B]", 3)]}
            verdict = decide(rule, numbers)
            if verdict is None:
                undecided += 1
            else:
                winners[verdict.get("winner")] += 1
        found[f"{name}: A declared"] = winners["A"] / EXPERIMENTS
        found[f"{name}: B declared"] = winners["B"] / EXPERIMENTS
        found[f"{name}: no clear winner"] = winners[None] / EXPERIMENTS
        found[f"{name}: sample not reached"] = undecided / EXPERIMENTS
    return found


def run() -> str:
    from shared.db import local as localdb
    from shared.db import migrate

    admin = localdb.admin_url()
    name = f"shortpub_bench_analytics_{os.getpid()}"
    url = localdb.create_database(admin, name)
    try:
        migrate.apply(url, local=True)
        latency, facts, plan_outcomes, plan_daily = _latency(url)
    finally:
        localdb.drop_database(admin, name)
    started = time.perf_counter()
    rates = _error_rates()
    ab_s = time.perf_counter() - started
    worst = max(p95 for _, _, p95 in latency)
    verdict = "meets" if worst < GOAL_MS else "misses"
    rows = "\n".join(f"| {name} | {p50:.1f} ms | {p95:.1f} ms |" for name, p50, p95 in latency)
    false_winner = rates["no lift: A declared"] + rates["no lift: B declared"]
    return f"""## Analytics: reports for a heavy user, and the A/B test's error rates

`.venv/bin/python -m bench analytics_bench` (throwaway database `{name}` on the embedded PostgreSQL,
created, migrated and dropped; machine: {os.cpu_count()} cores).

### Latency

One user with {facts['targets']:,} published targets over {DAYS} days and {facts['snapshots']:,} daily snapshots
(loaded in {facts['load_s']:.1f} s), every report through the user's transaction with RLS; {ROUNDS} rounds each.

| report | p50 | p95 |
|---|---|---|
{rows}

Goal p95 < {GOAL_MS:.0f} ms: **{verdict}** (worst p95 {worst:.1f} ms). The CSV export streamed all
{facts['csv_rows']:,} rows in {facts['csv_s'] * 1000:.0f} ms.

Plan of the per-post numbers at 72 h (recommendations and comparison read it):

```
{plan_outcomes}
```

Plan of the daily series:

```
{plan_daily}
```

### A/B decision rule: error rates

{EXPERIMENTS:,} simulated experiments per row (two variants, three Instagram posts each, numbers from the
sandbox's audience model at 72 h; rule: engagement rate, 5,000 views per variant, alpha 0.05); {ab_s:.1f} s.

| truth | A declared | B declared | no clear winner | sample not reached |
|---|---|---|---|---|
| no lift | {rates['no lift: A declared']:.2%} | {rates['no lift: B declared']:.2%} | \
{rates['no lift: no clear winner']:.2%} | {rates['no lift: sample not reached']:.2%} |
| B +20% engagement | {rates['20% lift: A declared']:.2%} | {rates['20% lift: B declared']:.2%} | \
{rates['20% lift: no clear winner']:.2%} | {rates['20% lift: sample not reached']:.2%} |

False-winner rate with no lift: **{false_winner:.2%}** (declared error rate 5.00%:
{"met" if false_winner <= 0.05 else "NOT met"}). With a 20% lift the better variant wins in
{rates['20% lift: B declared']:.0%} of experiments (the rule's power at this sample) and the worse one in
{rates['20% lift: A declared']:.2%}.
"""


if __name__ == "__main__":
    print(run())
