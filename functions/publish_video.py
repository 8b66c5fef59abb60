"""User-facing publishing API.

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

import re

import flask

from shared.accounts.export import export_user_data
from shared.analytics import report
from shared.app import application
from shared.http import ApiError, User, json_body, query_args, user_endpoint
from shared.publishing import bulk, calendar, preview, service
from shared.publishing.requests import AddTargets, BulkPublishRequest, PostQuery, PublishRequest, TargetEdit

_ID = r"([0-9a-fA-F-]{36})"


@user_endpoint
def publish_video(request: flask.Request, user: User) -> object:
    path = request.path.rstrip("/") or "/"
    rt = application().runtime
    if request.method == "POST" and path == "/":
        body = json_body(request, PublishRequest)
        return service.create_post(
            rt, user, body, idempotency_key=request.headers.get("Idempotency-Key"), raw_body=request.get_data()
        )
    if request.method == "POST" and path == "/preview":
        return preview.preview_post(rt, user, json_body(request, PublishRequest))
    if request.method == "POST" and path == "/bulk":
        return bulk.submit(rt, user, json_body(request, BulkPublishRequest), request.get_data())
    if request.method == "GET" and (match := re.fullmatch(rf"/batches/{_ID}", path)):
        return bulk.progress(rt, user, match.group(1))
    if request.method == "GET" and path == "/posts":
        query = query_args(request, PostQuery)
        return calendar.list_posts(rt, user, query)
    if request.method == "GET" and (match := re.fullmatch(rf"/posts/{_ID}", path)):
        return service.get_post(rt, user, match.group(1))
    if request.method == "POST" and (match := re.fullmatch(rf"/posts/{_ID}/cancel", path)):
        return service.cancel_post(rt, user, match.group(1))
    if request.method == "POST" and (match := re.fullmatch(rf"/posts/{_ID}/targets", path)):
        return service.add_targets(rt, user, match.group(1), json_body(request, AddTargets))
    if request.method == "GET" and (match := re.fullmatch(rf"/posts/{_ID}/metrics", path)):
        return report.post_metrics(rt.db, user, match.group(1))
    if request.method == "GET" and path == "/analytics":
        analytics_query = query_args(request, report.AnalyticsQuery)
        if analytics_query.format == "csv":
            return flask.Response(report.overview_csv(rt.db, user, analytics_query), mimetype="text/csv",
                                  headers={"Content-Disposition": 'attachment; filename="analytics.csv"'})
        return report.overview(rt.db, user, analytics_query)
    if request.method == "PATCH" and (match := re.fullmatch(rf"/targets/{_ID}", path)):
        return service.edit_target(rt, user, match.group(1), json_body(request, TargetEdit))
    if request.method == "POST" and (match := re.fullmatch(rf"/targets/{_ID}/cancel", path)):
        return service.cancel_target(rt, user, match.group(1))
    if request.method == "POST" and (match := re.fullmatch(rf"/targets/{_ID}/retry", path)):
        return service.retry_target(rt, user, match.group(1))
    if request.method == "GET" and path == "/export":
        return export_user_data(rt.db, user)
    raise ApiError(404, "not_found", "There is nothing at this address.")
