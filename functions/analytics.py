"""What works: the /analytics routes of shared/api/routes.py.

GET    /recommendations        best hours, weekdays, platform, caption length, hashtags (with evidence)
GET    /compare                platforms side by side (one video with post_id, or a date range)
POST   /experiments            start an A/B test of captions/titles (2-3 variants)
GET    /experiments            the user's experiments
GET    /experiments/<id>       an experiment with each variant's numbers and the verdict
GET    /defaults               what decided experiments made the user's defaults, per platform
PATCH  /defaults/<platform>    switch a platform's defaults on or off
"""

from typing import TYPE_CHECKING

from shared.api.dispatch import dispatch
from shared.api.lazy import lazy_module
from shared.app import application

if TYPE_CHECKING:
    from shared import config
    from shared.analytics import experiments, insights
    from shared.analytics import settings as analytics_settings
else:
    config = lazy_module("shared.config")
    # Cold start: imported by the first request that uses them.
    experiments = lazy_module("shared.analytics.experiments")
    insights = lazy_module("shared.analytics.insights")
    analytics_settings = lazy_module("shared.analytics.settings")


analytics = dispatch("analytics", {
    "GET /analytics/recommendations": lambda call: insights.recommendations(
        application().runtime.db, call.user, call.query(insights.InsightsQuery),
        config.load(analytics_settings.AnalyticsSettings)),
    "GET /analytics/compare": lambda call: insights.compare(
        application().runtime.db, call.user, call.query(insights.InsightsQuery),
        config.load(analytics_settings.AnalyticsSettings)),
    "POST /analytics/experiments": lambda call: experiments.create(
        application().runtime, call.user, call.body(experiments.ExperimentRequest)),
    "GET /analytics/experiments": lambda call: experiments.list_for(application().runtime.db, call.user),
    "GET /analytics/experiments/{experiment_id}": lambda call: experiments.get(
        application().runtime.db, call.user, call.params["experiment_id"]),
    "GET /analytics/defaults": lambda call: experiments.defaults(application().runtime.db, call.user),
    "PATCH /analytics/defaults/{platform}": lambda call: experiments.set_defaults_enabled(
        application().runtime.db, call.user, call.params["platform"], call.body(experiments.DefaultsEdit)),
})
