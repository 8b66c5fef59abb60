"""A/B tests of a video's caption, hashtags, title and cover frame (FR-14).

An experiment publishes 2-3 variants of one video through the normal pipeline (each
variant is a post of its own) in one of two designs declared up front:
- `split_accounts`: every variant goes to different accounts or platforms at once;
- `same_account_times`: every variant goes to the same accounts, at different days
  but the same hour of the day (±1 h), so the hour does not decide the winner.

The decision rule is fixed at creation: the metric (engagement rate, or views), the
age it is read at (72 h by default), the sample every variant needs (views), the
significance level, and a deadline. The verdict is taken once, when every variant's
posts have reached the age and the sample (one look, so the error rate is the declared
one): the best variant must beat every other one by a one-sided test at alpha/(2(k-1))
(picking the best first makes it a two-sided question; Bonferroni over the k-1
comparisons) — for engagement rates a quasi-binomial Wald test over the variants' posts
(stats.compare_engagement: a view can bring three engagements, and posts scatter more
than chance), for views Mann-Whitney U over the variant's posts. Otherwise "no clear winner", with
the numbers. A winner's traits become the user's defaults for those platforms
(`publishing_defaults`), unless the user switched that off.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.analytics import history
from shared.analytics.recommend import network_of
from shared.analytics.stats import ENGAGEMENT_KINDS, compare_engagement, compare_groups
from shared.db import Database
from shared.errors import NotFound
from shared.log import get_logger
from shared.notify import templates
from shared.notify.outbox import queue_email
from shared.platforms.options import CoverOffset
from shared.publishing.requests import PublishRequest, TargetRequest, resolve_time
from shared.publishing.runtime import Runtime
from shared.responses import (
    ExperimentList,
    ExperimentRule,
    ExperimentSummary,
    ExperimentVariant,
    ExperimentView,
    PublishingDefault,
    PublishingDefaults,
)
from shared.users import User
from shared.webhooks.events import EXPERIMENT_DECIDED

log = get_logger(__name__)
LABELS = ("A", "B", "C")


class VariantRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    caption: str = Field(max_length=5000)
    hashtags: list[str] = Field(default_factory=list, max_length=30)
    title: str | None = Field(default=None, max_length=100, description="Title (YouTube)")
    cover_offset_seconds: CoverOffset | None = Field(
        default=None, description="The cover: the frame this many seconds into the video (TikTok, Instagram). "
                                  "Sent as each platform's own cover frame option of this variant's posts")
    publish_at: datetime | None = Field(default=None, description="same_account_times: when this variant goes out")
    targets: list[TargetRequest] | None = Field(
        default=None, description="split_accounts: where this variant goes (accounts no other variant uses)")


class ExperimentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    video_id: UUID
    name: str = Field(min_length=1, max_length=100)
    design: Literal["split_accounts", "same_account_times"]
    metric: Literal["engagement_rate", "views"] = "engagement_rate"
    metric_age: Literal["24h", "72h", "7d"] = "72h"
    min_views_per_variant: int = Field(default=1000, ge=50, le=10_000_000)
    alpha: float = Field(default=0.05, gt=0, le=0.2, description="Chance of declaring a winner where there is none")
    decide_within_days: int = Field(default=14, ge=1, le=60)
    auto_apply: bool = Field(default=True, description="Make the winner's style your default for these platforms")
    timezone: str = "UTC"
    targets: list[TargetRequest] | None = Field(default=None, description="same_account_times: the accounts")
    variants: list[VariantRequest] = Field(min_length=2, max_length=3)

    @model_validator(mode="after")
    def _design_fits(self) -> ExperimentRequest:
        if any(v.cover_offset_seconds is not None for v in self.variants):
            for target in [t for v in self.variants for t in (v.targets or ())] + list(self.targets or ()):
                if "cover_offset_seconds" not in type(target.options).model_fields:
                    raise ValueError(f"{target.platform} takes no cover frame, so cover variants can't be tested "
                                     "there; leave that platform out of this test")
                if target.options.cover_offset() is not None:
                    raise ValueError(f"{target.platform}: the target sets its own cover frame, which would show "
                                     "for every variant; leave it out and give each variant cover_offset_seconds")
        if self.design == "split_accounts":
            if any(not v.targets for v in self.variants):
                raise ValueError("split_accounts: give each variant its own targets (different accounts)")
            seen: set[tuple[str, str | None]] = set()
            for variant in self.variants:
                for target in variant.targets or ():
                    key = (network_of(target.platform), str(target.connection_id) if target.connection_id else None)
                    if key in seen:
                        raise ValueError("split_accounts: two variants would go to the same account; "
                                         "name a different connection_id for each")
                    seen.add(key)
        else:
            if not self.targets:
                raise ValueError("same_account_times: name the accounts in targets")
            if any(v.publish_at is None for v in self.variants):
                raise ValueError("same_account_times: give each variant a publish_at")
            times = [resolve_time(v.publish_at, self.timezone) for v in self.variants]
            days = {t.date() for t in times if t is not None}
            if len(days) != len(times):
                raise ValueError("same_account_times: publish each variant on a different day")
            hours = [t.hour * 60 + t.minute for t in times if t is not None]
            if max(hours) - min(hours) > 60:
                raise ValueError("same_account_times: publish every variant at the same hour of the day (±1 hour), "
                                 "so the time of day does not decide the winner")
        return self


class DefaultsEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


def create(rt: Runtime, user: User, request: ExperimentRequest) -> ExperimentView:
    """Publish every variant through the pipeline and record the experiment with its rule."""
    # Imported here: the publishing service and its pipeline cost the analytics function's cold start
    # ~11 modules (~66 ms) that only starting an experiment needs.
    from shared.publishing import service

    now = rt.clock()
    posts = []
    for label, variant in zip(LABELS, request.variants, strict=False):
        targets = variant.targets if request.design == "split_accounts" else request.targets
        assert targets is not None
        with_title = [_with_cover(t.model_copy(update={"title": variant.title}) if variant.title else t,
                                  variant.cover_offset_seconds) for t in targets]
        answer, _status = service.create_post(rt, user, PublishRequest(
            video_id=request.video_id, caption=variant.caption, hashtags=variant.hashtags,
            campaign=f"Experiment: {request.name}"[:200], timezone=request.timezone,
            publish_at=variant.publish_at if request.design == "same_account_times" else None,
            targets=with_title,
        ))
        posts.append((label, variant, answer["post_id"]))
    with rt.db.service() as conn:
        row = conn.execute(
            "insert into experiments (user_id, video_id, name, design, metric, metric_age, min_views_per_variant, "
            "alpha, decide_by, auto_apply) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning id",
            (user.id, request.video_id, request.name, request.design, request.metric, request.metric_age,
             request.min_views_per_variant, request.alpha, now + timedelta(days=request.decide_within_days),
             request.auto_apply),
        ).fetchone()
        assert row is not None
        for label, variant, post_id in posts:
            conn.execute(
                "insert into experiment_variants (experiment_id, user_id, label, post_id, caption, hashtags, title, "
                "cover_offset_seconds) values (%s, %s, %s, %s, %s, %s, %s, %s)",
                (row["id"], user.id, label, post_id, variant.caption, variant.hashtags, variant.title,
                 variant.cover_offset_seconds),
            )
    return get(rt.db, user, str(row["id"]))


def _with_cover(target: TargetRequest, offset: float | None) -> TargetRequest:
    """The variant's cover frame as the target's own cover option (checked against the video like any)."""
    if offset is None:
        return target
    return target.model_copy(update={"options": target.options.model_copy(update={"cover_offset_seconds": offset})})


def _numbers(db: Database, experiment: dict[str, Any], user_claims: dict[str, Any] | None) -> dict[str, Any]:
    """Per variant: its posts' numbers at the experiment's age, and whether the sample is reached."""
    age = history.AGES[experiment["metric_age"]]
    with (db.user(user_claims) if user_claims is not None else db.service()) as conn:
        variants = conn.execute(
            "select id, label, post_id, caption, hashtags, title, cover_offset_seconds from experiment_variants "
            "where experiment_id = %s order by label", (experiment["id"],)).fetchall()
        targets = conn.execute(
            "select t.id, t.post_id, t.platform, t.state, t.published_at from publish_targets t "
            "where t.post_id = any(%s::uuid[])", ([str(v["post_id"]) for v in variants],)).fetchall()
        points = history.series(conn, [str(t["id"]) for t in targets])
    by_post: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for target in targets:
        by_post[str(target["post_id"])].append(dict(target))
    out = []
    for variant in variants:
        posts = by_post[str(variant["post_id"])]
        measured = []
        for target in posts:
            at = history.at_ages(points[str(target["id"])], target["published_at"])[experiment["metric_age"]]
            if at is not None and at["views"] is not None:
                kinds = {k: at[k] or 0 for k in ENGAGEMENT_KINDS}
                measured.append({"target_id": str(target["id"]), "platform": target["platform"],
                                 "views": at["views"], "engagements": sum(kinds.values()), **kinds})
        views = sum(m["views"] for m in measured)
        engagements = sum(m["engagements"] for m in measured)
        published = [t for t in posts if t["state"] == "published"]
        out.append({
            "variant_id": str(variant["id"]), "label": variant["label"], "post_id": str(variant["post_id"]),
            "caption": variant["caption"], "hashtags": list(variant["hashtags"]), "title": variant["title"],
            "cover_offset_seconds": _seconds(variant["cover_offset_seconds"]),
            "targets": len(posts), "published": len(published), "measured": len(measured),
            "views": round(views), "engagements": round(engagements),
            "engagement_rate": round(engagements / views, 4) if views else None,
            "posts": measured,
            # Every target must be published and read at the age; unfinished targets keep the sample open.
            "complete": bool(posts) and len(measured) == len(posts),
        })
    return {"age": age, "variants": out}


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value)


def decide(experiment: dict[str, Any], numbers: dict[str, Any]) -> dict[str, Any] | None:
    """The verdict once the sample is reached (None: keep waiting). Pure: the numbers in, the verdict out."""
    variants = numbers["variants"]
    need = int(experiment["min_views_per_variant"])
    reached = all(v["complete"] and v["views"] >= need for v in variants)
    if not reached:
        return None
    alpha = float(experiment["alpha"])
    # The best variant is picked first and then tested one-sided, which is a two-sided question:
    # each comparison gets alpha / 2, split again over the k - 1 comparisons (Bonferroni).
    corrected = alpha / (2 * (len(variants) - 1))
    if experiment["metric"] == "engagement_rate":
        best = max(variants, key=lambda v: v["engagement_rate"] or 0.0)
        tests = {v["label"]: compare_engagement(best["posts"], v["posts"], corrected)
                 for v in variants if v is not best}
    else:
        best = max(variants, key=lambda v: v["views"] / max(1, v["measured"]))
        tests = {v["label"]: compare_groups([p["views"] for p in best["posts"]], [p["views"] for p in v["posts"]],
                                            corrected)
                 for v in variants if v is not best}
    evidence = {label: e.as_dict() for label, e in tests.items()}
    if all(e.significant for e in tests.values()):
        return {"status": "decided", "winner": best["label"], "winner_variant_id": best["variant_id"],
                "alpha_per_comparison": round(corrected, 4), "against": evidence}
    return {"status": "no_winner", "alpha_per_comparison": round(corrected, 4), "against": evidence,
            "reason": f"Variant {best['label']} did best, but not by enough to be sure: it may be chance."}


def get(db: Database, user: User, experiment_id: str) -> ExperimentView:
    with db.user(user.claims) as conn:
        experiment = conn.execute("select * from experiments where id = %s", (experiment_id,)).fetchone()
    if experiment is None:
        raise NotFound("We couldn't find that experiment.", code="experiment_not_found")
    return _view(dict(experiment), _numbers(db, dict(experiment), user.claims))


def list_for(db: Database, user: User) -> ExperimentList:
    with db.user(user.claims) as conn:
        rows = conn.execute("select id, name, status, metric, created_at, decided_at from experiments "
                            "order by created_at desc limit 200").fetchall()
    return ExperimentList(items=[ExperimentSummary(
        experiment_id=str(r["id"]), name=r["name"], status=r["status"], metric=r["metric"],
        created_at=r["created_at"].isoformat(), decided_at=r["decided_at"].isoformat() if r["decided_at"] else None)
        for r in rows])


def _view(experiment: dict[str, Any], numbers: dict[str, Any]) -> ExperimentView:
    need = int(experiment["min_views_per_variant"])
    if experiment["status"] == "running":
        waiting = [f"variant {v['label']} has {v['views']:,} of {need:,} views" for v in numbers["variants"]
                   if v["views"] < need or not v["complete"]]
        message = ("Collecting numbers: " + "; ".join(waiting) + ".") if waiting else "Deciding at the next check."
    elif experiment["status"] == "decided":
        winner = (experiment["result"] or {}).get("winner")
        message = f"Variant {winner} won."
    else:
        message = (experiment["result"] or {}).get("reason") or "No clear winner."
    for variant in numbers["variants"]:
        variant.pop("posts", None)
    return ExperimentView(
        experiment_id=str(experiment["id"]), name=experiment["name"], design=experiment["design"],
        status=experiment["status"], message=message,
        rule=ExperimentRule(metric=experiment["metric"], age=experiment["metric_age"], min_views_per_variant=need,
                            alpha=float(experiment["alpha"]), decide_by=experiment["decide_by"].isoformat()),
        auto_apply=experiment["auto_apply"], result=experiment["result"],
        decided_at=experiment["decided_at"].isoformat() if experiment["decided_at"] else None,
        variants=[ExperimentVariant.model_validate(v) for v in numbers["variants"]],
    )


def decide_due(db: Database, now: datetime, *, frontend_url: str) -> dict[str, int]:
    """A tick duty: take the verdict of every running experiment whose sample is reached or time is up."""
    with db.service() as conn:
        running = [dict(r) for r in conn.execute(
            "select * from experiments where status = 'running' order by created_at limit 200").fetchall()]
    decided = 0
    for experiment in running:
        numbers = _numbers(db, experiment, None)
        verdict = decide(experiment, numbers)
        if verdict is None and now < experiment["decide_by"]:
            continue
        if verdict is None:
            verdict = {"status": "no_winner",
                       "reason": "The deadline passed before every variant reached the sample: no clear winner."}
        _record(db, experiment, numbers, verdict, now, frontend_url)
        decided += 1
    return {"running": len(running), "decided": decided}


def _record(db: Database, experiment: dict[str, Any], numbers: dict[str, Any], verdict: dict[str, Any],
            now: datetime, frontend_url: str) -> None:
    summary = {**verdict, "variants": [{k: v[k] for k in ("label", "views", "engagements", "engagement_rate")}
                                       for v in numbers["variants"]],
               "first_post_id": numbers["variants"][0]["post_id"] if numbers["variants"] else None}
    with db.service() as conn:
        updated = conn.execute(
            "update experiments set status = %s, winner_variant_id = %s, result = %s, decided_at = %s "
            "where id = %s and status = 'running' returning user_id",
            (verdict["status"], verdict.get("winner_variant_id"), Jsonb(summary), now, experiment["id"]),
        ).fetchone()
        if updated is None:  # another tick took the verdict first
            return
        winner = next((v for v in numbers["variants"] if v["variant_id"] == verdict.get("winner_variant_id")), None)
        if winner is not None and experiment["auto_apply"]:
            traits = _traits(winner)
            networks = {network_of(p["platform"]) for v in numbers["variants"] for p in v["posts"]}
            for network in sorted(networks):
                conn.execute(
                    "insert into publishing_defaults (user_id, platform, traits, source_experiment_id) "
                    "values (%s, %s, %s, %s) on conflict (user_id, platform) do update set traits = excluded.traits, "
                    "source_experiment_id = excluded.source_experiment_id, updated_at = now() "
                    "where publishing_defaults.enabled",
                    (experiment["user_id"], network, Jsonb(traits), experiment["id"]),
                )
        # The webhook event, in the transaction that records the verdict (the outbox of shared/webhooks).
        conn.execute(
            "insert into outbox_events (user_id, type, data, fanout_due) values (%s, %s, %s, true)",
            (experiment["user_id"], EXPERIMENT_DECIDED,
             Jsonb({"experiment_id": str(experiment["id"]), "name": experiment["name"], **summary})),
        )
        user = conn.execute("select email from auth.users where id = %s", (experiment["user_id"],)).fetchone()
        if user is not None and user["email"]:
            subject, body = _mail(experiment, summary, frontend_url)
            queue_email(conn, user_id=str(experiment["user_id"]), kind="experiment_decided", subject=subject,
                        body=body, dedupe_key=templates.dedupe_key("experiment_decided", experiment["id"]))
    log.info("experiment decided", experiment_id=str(experiment["id"]), status=verdict["status"])


def _traits(variant: dict[str, Any]) -> dict[str, Any]:
    """What the composer and caption suggestions take from a winning variant."""
    caption = variant["caption"]
    return {"from_variant": variant["label"], "caption_example": caption,
            "caption_length": len(caption), "hashtag_count": len(variant["hashtags"]),
            "hashtags": variant["hashtags"], "uses_emoji": any(ord(ch) > 0x2100 for ch in caption),
            "title_example": variant["title"], "cover_offset_seconds": variant.get("cover_offset_seconds")}


def _mail(experiment: dict[str, Any], summary: dict[str, Any], frontend_url: str) -> tuple[str, str]:
    lines = [f"Variant {v['label']}: {v['views']:,} views, engagement rate "
             f"{(v['engagement_rate'] or 0) * 100:.1f}%" for v in summary["variants"]]
    if summary["status"] == "decided":
        subject = f"Your A/B test \"{experiment['name']}\": variant {summary['winner']} won"
        intro = f"Variant {summary['winner']} did better than the others, by more than chance would explain."
        if experiment["auto_apply"]:
            intro += " We'll use its style as your default for these platforms (you can switch that off)."
    else:
        subject = f"Your A/B test \"{experiment['name']}\": no clear winner"
        intro = summary.get("reason") or "No variant did clearly better."
    first_post = summary.get("first_post_id")
    link = [templates.post_link(first_post, frontend_url)] if first_post else []
    return subject, "\n".join([intro, "", *lines, "", *link])


def defaults(db: Database, user: User) -> PublishingDefaults:
    with db.user(user.claims) as conn:
        rows = conn.execute("select platform, traits, source_experiment_id, enabled, updated_at "
                            "from publishing_defaults order by platform").fetchall()
    return PublishingDefaults(items=[PublishingDefault(
        platform=r["platform"], traits=r["traits"], enabled=r["enabled"],
        source_experiment_id=str(r["source_experiment_id"]) if r["source_experiment_id"] else None,
        updated_at=r["updated_at"].isoformat()) for r in rows])


def set_defaults_enabled(db: Database, user: User, platform: str, edit: DefaultsEdit) -> PublishingDefaults:
    with db.service() as conn:
        row = conn.execute("update publishing_defaults set enabled = %s, updated_at = now() "
                           "where user_id = %s and platform = %s returning platform",
                           (edit.enabled, user.id, platform)).fetchone()
    if row is None:
        raise NotFound(f"There are no saved defaults for {platform} yet.", code="defaults_not_found")
    return defaults(db, user)
