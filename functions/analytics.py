"""What works: recommendations, platform comparison, A/B experiments and the defaults they leave.

GET    /recommendations        best hours, weekdays, platform, caption length, hashtags (with evidence)
GET    /compare                platforms side by side (one video with post_id, or a date range)
POST   /experiments            start an A/B test of captions, titles or cover frames (2-3 variants)
GET    /experiments            the user's experiments
GET    /experiments/<id>       an experiment with each variant's numbers and the verdict
GET    /defaults               what decided experiments made the user's defaults, per platform
PATCH  /defaults/<platform>    switch a platform's defaults on or off
"""

import re

import flask

from shared.analytics import experiments, insights
from shared.analytics.settings import AnalyticsSettings
from shared.app import application
from shared.config import load
from shared.http import ApiError, User, json_body, query_args, user_endpoint

_ID = r"([0-9a-fA-F-]{36})"


@user_endpoint
def analytics(request: flask.Request, user: User) -> object:
    path = request.path.rstrip("/") or "/"
    rt = application().runtime
    settings = load(AnalyticsSettings)
    if request.method == "GET" and path == "/recommendations":
        return insights.recommendations(rt.db, user, query_args(request, insights.InsightsQuery),
                                        settings)
    if request.method == "GET" and path == "/compare":
        return insights.compare(rt.db, user, query_args(request, insights.InsightsQuery), settings)
    if request.method == "POST" and path == "/experiments":
        return experiments.create(rt, user, json_body(request, experiments.ExperimentRequest)), 201
    if request.method == "GET" and path == "/experiments":
        return experiments.list_for(rt.db, user)
    if request.method == "GET" and (match := re.fullmatch(rf"/experiments/{_ID}", path)):
        return experiments.get(rt.db, user, match.group(1))
    if request.method == "GET" and path == "/defaults":
        return experiments.defaults(rt.db, user)
    if request.method == "PATCH" and (match := re.fullmatch(r"/defaults/([a-z_]{1,40})", path)):
        return experiments.set_defaults_enabled(rt.db, user, match.group(1),
                                                json_body(request, experiments.DefaultsEdit))
    raise ApiError(404, "not_found", "There is nothing at this address.")
