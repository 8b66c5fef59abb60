"""User-facing publishing API: the /publish-video routes of shared/api/routes.py.

POST   /                       publish one video to several platforms (202; `wait` for final results)
POST   /preview                what publishing this body would send to each platform, and every problem
POST   /bulk                   publish many videos to the same platforms
GET    /batches/<id>           bulk progress
GET    /posts                  a user's posts by date range, platform, campaign, state (calendar)
GET    /posts/<id>             a post's targets with state, URL, message, and a summary line
POST   /posts/<id>/cancel      cancel every platform of a post that has not started
POST   /posts/<id>/targets     add platforms to a post (checked as when creating one)
GET    /posts/<id>/metrics     a post's latest numbers per platform, totals and engagement rate
GET    /analytics              published posts' numbers by date range, platform, campaign (JSON or CSV)
PATCH  /targets/<id>           edit a target that has not started
POST   /targets/<id>/cancel    cancel a target that has not started
POST   /targets/<id>/retry     retry a failed target now
GET    /export                 everything we keep about the user, as JSON (no secrets)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import flask

from shared.api.dispatch import Call, dispatch
from shared.api.lazy import lazy_module
from shared.app import application

if TYPE_CHECKING:
    from shared import responses
    from shared.accounts import export
    from shared.analytics import report
    from shared.publishing import bulk, calendar, preview, requests, service
    from shared.publishing.runtime import Runtime
else:
    # Cold start: imported by the first request that uses them.
    responses = lazy_module("shared.responses")
    export = lazy_module("shared.accounts.export")
    report = lazy_module("shared.analytics.report")
    bulk = lazy_module("shared.publishing.bulk")
    calendar = lazy_module("shared.publishing.calendar")
    preview = lazy_module("shared.publishing.preview")
    requests = lazy_module("shared.publishing.requests")
    service = lazy_module("shared.publishing.service")


def _rt() -> Runtime:
    return application().runtime

def _analytics(call: Call) -> flask.Response | responses.AnalyticsOverview:
    query = call.query(report.AnalyticsQuery)
    if query.format == "csv":
        return flask.Response(report.overview_csv(_rt().db, call.user, query), mimetype="text/csv",
                              headers={"Content-Disposition": 'attachment; filename="analytics.csv"'})
    return report.overview(_rt().db, call.user, query)


publish_video = dispatch("publish-video", {
    "POST /publish-video": lambda call: service.create_post(
        _rt(), call.user, call.body(requests.PublishRequest),
        idempotency_key=call.request.headers.get("Idempotency-Key"), raw_body=call.request.get_data()),
    "POST /publish-video/preview": lambda call: preview.preview_post(
        _rt(), call.user, call.body(requests.PublishRequest), application().storage),
    "POST /publish-video/bulk": lambda call: bulk.submit(_rt(), call.user, call.body(requests.BulkPublishRequest),
                                                         call.request.get_data()),
    "GET /publish-video/batches/{batch_id}": lambda call: bulk.progress(_rt(), call.user, call.params["batch_id"]),
    "GET /publish-video/posts": lambda call: calendar.list_posts(_rt(), call.user, call.query(requests.PostQuery),
                                                                      application().storage),
    "GET /publish-video/posts/{post_id}": lambda call: service.get_post(_rt(), call.user, call.params["post_id"]),
    "POST /publish-video/posts/{post_id}/cancel": lambda call: service.cancel_post(
        _rt(), call.user, call.params["post_id"]),
    "POST /publish-video/posts/{post_id}/targets": lambda call: service.add_targets(
        _rt(), call.user, call.params["post_id"], call.body(requests.AddTargets)),
    "GET /publish-video/posts/{post_id}/metrics": lambda call: report.post_metrics(
        _rt().db, call.user, call.params["post_id"]),
    "GET /publish-video/analytics": _analytics,
    "PATCH /publish-video/targets/{target_id}": lambda call: service.edit_target(
        _rt(), call.user, call.params["target_id"], call.body(requests.TargetEdit)),
    "POST /publish-video/targets/{target_id}/cancel": lambda call: service.cancel_target(
        _rt(), call.user, call.params["target_id"]),
    "POST /publish-video/targets/{target_id}/retry": lambda call: service.retry_target(
        _rt(), call.user, call.params["target_id"]),
    "GET /publish-video/export": lambda call: export.export_user_data(_rt().db, call.user, _rt().clock()),
})
