"""Every user-facing route: method, path, what it takes and what it answers.

This one table both dispatches requests (shared/api/dispatch.py: each function in
functions/ binds a handler to each of its routes) and generates the OpenAPI
document (shared/api/openapi.py). Request models are the ones the edge validates
with; response models (shared/responses.py) are what the edge sends answers through.
Paths are the deployed ones (function name first).

The table names its models without importing them (`r.Health` is a `ModelRef`): a
function imports the models of the routes it serves when they are first used, not
every model of every route at its cold start. tests/api/test_route_table.py loads
every reference, so a misspelt name fails a test, not a request.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field

from pydantic import BaseModel


@dataclass(frozen=True)
class ModelRef:
    """A pydantic model named by its module and class name; `load()` imports the module."""

    module: str
    name: str

    def load(self) -> type[BaseModel]:
        model = getattr(importlib.import_module(self.module), self.name, None)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise LookupError(f"the route table names {self.module}.{self.name}, which is not a pydantic model")
        return model


class ModelsOf:
    """The models of one module as references: `ModelsOf("shared.responses").Health` imports nothing."""

    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, name: str) -> ModelRef:
        if name.startswith("_"):  # copy, pickle and friends probe dunders: not model names
            raise AttributeError(name)
        return ModelRef(self._module, name)


r = ModelsOf("shared.responses")
api_requests = ModelsOf("shared.api.requests")
captions = ModelsOf("shared.captions.models")
experiments = ModelsOf("shared.analytics.experiments")
insights = ModelsOf("shared.analytics.insights")
preferences = ModelsOf("shared.notify.preferences")
publishing = ModelsOf("shared.publishing.requests")
report = ModelsOf("shared.analytics.report")
video_context = ModelsOf("shared.video_context")
webhooks = ModelsOf("shared.webhooks.endpoints")

VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
IMAGE_TYPES = ("image/jpeg", "image/png")


class ExamplePlatform:
    """The publish link's example target, named when the document is built (shared/api/openapi.py): a
    platform that takes a post without options, the last registered one. The table itself loads no platform."""

    @staticmethod
    def key() -> str:
        from shared.platforms.registry import registry  # cold start: only the document needs it

        return next(p.key for p in reversed(tuple(registry())) if not p.options.REQUIRED_TO_POST)


EXAMPLE_PLATFORM = ExamplePlatform()


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str
    tag: str
    responses: dict[int, ModelRef | None]
    body: ModelRef | None = None
    raw_body: tuple[str, ...] = ()         # content types sent as the raw body (files)
    query: ModelRef | None = None
    signed_in: bool = True
    description: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    text_answers: tuple[str, ...] = ()   # other content types of the 200 answer (CSV export)
    # OpenAPI links: what a client (and the stateful fuzzer) does next with an answer's ids.
    links: dict[str, dict[str, object]] = field(default_factory=dict)

    def body_model(self) -> type[BaseModel] | None:
        return self.body.load() if self.body else None

    def query_model(self) -> type[BaseModel] | None:
        return self.query.load() if self.query else None

    def response_model(self, status: int) -> type[BaseModel] | None:
        """The model of the answer with `status` (None: no body, e.g. a redirect); KeyError if not declared."""
        ref = self.responses[status]
        return ref.load() if ref else None

    def model_refs(self) -> list[ModelRef]:
        """Every model the route names: its body, query and answers."""
        return [ref for ref in (self.body, self.query, *self.responses.values()) if ref is not None]

    @property
    def key(self) -> str:
        """How a function names the route it handles: "GET /publish-video/posts/{post_id}"."""
        return f"{self.method} {self.path}"

    @property
    def function(self) -> str:
        """The deployed function that answers it: the path's first segment."""
        return self.path.split("/")[1]

    @property
    def success(self) -> int:
        """The status of an answer that does not name its own (the route's only success)."""
        statuses = [status for status in self.responses if status < 400]
        assert len(statuses) == 1, f"{self.key} declares {statuses}: its handler must say which"
        return statuses[0]

    @property
    def operation_id(self) -> str:
        # Unique per operation: a path parameter is named ("by_post_id"), so /posts and /posts/{post_id} differ.
        words = [f"by_{p[1:-1]}" if p.startswith("{") else p for p in self.path.replace("-", "_").split("/") if p]
        return "_".join([self.method.lower(), *words])


ROUTES: tuple[Route, ...] = (
    # --- publishing
    Route("POST", "/publish-video", "Publish one video to several platforms", "publishing",
          {202: r.PublishAccepted, 200: r.PublishResult}, body=publishing.PublishRequest,
          headers={"Idempotency-Key": "Repeat a request safely: the same key returns the first answer"},
          links={"PostStatus": {"operationId": "get_publish_video_posts_by_post_id", "parameters": {
                     "post_id": "$response.body#/post_id"}},
                 "EditTarget": {"operationId": "patch_publish_video_targets_by_target_id", "parameters": {
                     "target_id": "$response.body#/targets/0/target_id"}},
                 "CancelTarget": {"operationId": "post_publish_video_targets_by_target_id_cancel", "parameters": {
                     "target_id": "$response.body#/targets/0/target_id"}}}),
    Route("POST", "/publish-video/preview", "What publishing this body would send, and every problem",
          "publishing", {200: r.PublishPreview}, body=publishing.PublishRequest,
          description="Takes the body of POST /publish-video and runs the same checks; stores nothing and calls "
                      "no platform write endpoint. Problems are the objects a refused publish returns in `detail`."),
    Route("POST", "/publish-video/bulk", "Publish many videos to the same platforms", "publishing",
          {201: r.BatchProgress, 202: r.BatchAccepted}, body=publishing.BulkPublishRequest),
    Route("GET", "/publish-video/batches/{batch_id}", "Progress of a bulk request", "publishing",
          {200: r.BatchProgress}),
    Route("GET", "/publish-video/posts", "The user's platform posts by time (calendar)", "publishing",
          {200: r.PostList}, query=publishing.PostQuery),
    Route("GET", "/publish-video/posts/{post_id}", "A post with each platform's state, link or message",
          "publishing", {200: r.PostView}),
    Route("POST", "/publish-video/posts/{post_id}/cancel", "Cancel every platform of a post that has not started",
          "publishing", {200: r.PostView},
          description="Platforms already publishing or done are left as they are; 409 when none could be canceled."),
    Route("POST", "/publish-video/posts/{post_id}/targets", "Add platforms to an existing post", "publishing",
          {201: r.PublishAccepted}, body=publishing.AddTargets,
          description="The new targets get the post's video, caption and hashtags and the same checks as a new "
                      "post (options, text limits, media, cover, schedule, budgets)."),
    Route("GET", "/publish-video/posts/{post_id}/metrics", "How a post did: latest numbers per platform, totals",
          "analytics", {200: r.PostMetricsView},
          description="Numbers are read from each platform once a day, starting an hour after publishing."),
    Route("GET", "/publish-video/analytics", "The user's published posts with their numbers", "analytics",
          {200: r.AnalyticsOverview}, query=report.AnalyticsQuery,
          description="With format=csv the answer is text/csv: a header, then one row per platform post.",
          text_answers=("text/csv",)),
    Route("PATCH", "/publish-video/targets/{target_id}", "Edit a platform post that has not started", "publishing",
          {200: r.TargetView}, body=publishing.TargetEdit),
    Route("POST", "/publish-video/targets/{target_id}/cancel", "Cancel a platform post that has not started",
          "publishing", {200: r.TargetView}),
    Route("POST", "/publish-video/targets/{target_id}/retry", "Retry a failed platform post now", "publishing",
          {200: r.TargetView}),
    # --- insights
    Route("GET", "/analytics/recommendations", "When, where and how to post, from the user's own results",
          "analytics", {200: r.RecommendationsView}, query=insights.InsightsQuery,
          description="Each recommendation carries its evidence; thin data gives a withheld verdict with the reason."),
    Route("GET", "/analytics/compare", "Platforms side by side: one video (post_id) or a date range", "analytics",
          {200: r.ComparisonView}, query=insights.InsightsQuery),
    Route("POST", "/analytics/experiments", "Start an A/B test of 2-3 caption/title variants", "analytics",
          {201: r.ExperimentView}, body=experiments.ExperimentRequest),
    Route("GET", "/analytics/experiments", "The user's A/B tests", "analytics", {200: r.ExperimentList}),
    Route("GET", "/analytics/experiments/{experiment_id}", "An A/B test with each variant's numbers and the verdict",
          "analytics", {200: r.ExperimentView}),
    Route("GET", "/analytics/defaults", "Styles that won A/B tests, per platform", "analytics",
          {200: r.PublishingDefaults}),
    Route("PATCH", "/analytics/defaults/{platform}", "Switch a platform's A/B defaults on or off", "analytics",
          {200: r.PublishingDefaults}, body=experiments.DefaultsEdit),
    Route("GET", "/publish-video/export", "Everything kept about the signed-in user, as JSON", "account",
          {200: r.DataExport},
          description="Videos, posts, platform posts, connections (without tokens), analytics, events and "
                      "emails. docs/security.md says what is kept and for how long."),
    # --- videos
    Route("POST", "/videos", "Upload a video (the file itself as the body)", "videos", {201: r.VideoView},
          raw_body=VIDEO_TYPES, headers={"X-Filename": "The original file name"}, query=video_context.VideoContext,
          links={"PublishUpload": {"operationId": "post_publish_video", "requestBody": {
              "video_id": "$response.body#/video_id"}}}),
    Route("POST", "/videos/register", "Add a file already uploaded to storage", "videos", {201: r.VideoView},
          body=api_requests.RegisterBody),
    Route("POST", "/videos/import", "Fetch a video from a public URL", "videos", {201: r.VideoView},
          body=api_requests.ImportBody),
    Route("GET", "/videos", "The user's videos", "videos", {200: r.VideoList},
          links={"PublishVideo": {"operationId": "post_publish_video", "requestBody": {
                     "video_id": "$response.body#/videos/0/video_id", "caption": "New video", "hashtags": [],
                     "timezone": "UTC", "publish_at": None, "wait": 0, "targets": [{"platform": EXAMPLE_PLATFORM}]},
                                 # The whole body as written (a fuzzer would otherwise mix in generated fields).
                                 "x-schemathesis": {"merge_body": False}},
                 "VideoDetail": {"operationId": "get_videos_by_video_id", "parameters": {
                     "video_id": "$response.body#/videos/0/video_id"}}}),
    Route("GET", "/videos/{video_id}", "One video with its checks and converted copies", "videos",
          {200: r.VideoDetail}),
    Route("DELETE", "/videos/{video_id}", "Delete a video with its converted copies, covers and poster", "videos",
          {200: r.VideoDeleted},
          description="Refused (409) while a post that is not finished still needs the video."),
    Route("POST", "/videos/{video_id}/convert", "Make the converted copy now", "videos", {200: r.ConvertResult},
          body=api_requests.ConvertBody),
    Route("POST", "/videos/{video_id}/cover", "Set the cover from a frame (JSON) or an image (raw JPG/PNG)",
          "videos", {200: r.CoverResult}, body=api_requests.CoverFromFrame, raw_body=IMAGE_TYPES,
          query=api_requests.CoverQuery),
    # --- captions
    Route("POST", "/captions", "Suggest a caption and hashtags per platform for a video", "captions",
          {200: r.CaptionSuggestions}, body=captions.CaptionRequest,
          description="Nothing is stored as the post's caption; send the edited text with publish."),
    # --- connecting accounts
    Route("POST", "/oauth/start/{platform}", "Start connecting an account: where to send the browser",
          "connections", {200: r.AuthorizationStart}, body=api_requests.StartRequest),
    Route("GET", "/oauth/start/{platform}", "The same as POST, with return_path in the query", "connections",
          {200: r.AuthorizationStart}, query=api_requests.StartRequest),
    Route("GET", "/oauth/callback/{platform}", "Where the platform sends the browser back", "connections",
          {302: None}, signed_in=False,
          description="Redirects to FRONTEND_URL with ?connected=<platform> or ?error=<plain message>."),
    Route("POST", "/oauth/complete", "Finish connecting with a code the frontend received", "connections",
          {200: r.OAuthCompleted}, body=api_requests.CompleteRequest),
    Route("GET", "/connections", "The user's connected accounts", "connections", {200: r.ConnectionList}),
    Route("GET", "/connections/{connection_id}", "One connected account", "connections", {200: r.Connection}),
    Route("DELETE", "/connections/{connection_id}", "Disconnect an account", "connections", {200: r.Connection}),
    Route("POST", "/connections/blotato/accounts", "TikTok accounts in a Blotato account", "connections",
          {200: r.BlotatoAccounts}, body=api_requests.BlotatoKey),
    Route("POST", "/connections/blotato", "Connect TikTok through Blotato", "connections", {201: r.Connected},
          body=api_requests.BlotatoConnect),
    # --- webhooks and notifications (docs/webhooks.md)
    Route("POST", "/webhooks", "Register a webhook endpoint (the signing secret is shown once)", "webhooks",
          {201: r.WebhookCreated}, body=webhooks.EndpointCreate),
    Route("GET", "/webhooks", "The user's webhook endpoints", "webhooks", {200: r.WebhookList}),
    Route("GET", "/webhooks/{webhook_id}", "One webhook endpoint", "webhooks", {200: r.WebhookEndpoint}),
    Route("PATCH", "/webhooks/{webhook_id}", "Turn an endpoint back on, change its events", "webhooks",
          {200: r.WebhookEndpoint}, body=webhooks.EndpointUpdate),
    Route("DELETE", "/webhooks/{webhook_id}", "Delete a webhook endpoint", "webhooks", {200: r.WebhookDeleted}),
    Route("GET", "/webhooks/{webhook_id}/deliveries", "Every delivery attempt to an endpoint, newest first",
          "webhooks", {200: r.WebhookAttempts}),
    Route("POST", "/webhooks/{webhook_id}/test", "Send a test event now", "webhooks", {200: r.WebhookTestResult}),
    Route("GET", "/me/notifications", "Which mails the user gets", "notifications", {200: r.NotificationPreferences}),
    Route("PATCH", "/me/notifications", "Change which mails the user gets", "notifications",
          {200: r.NotificationPreferences}, body=preferences.PreferencesUpdate),
    # --- the composer's catalog
    Route("GET", "/platforms", "Platforms: limits, media rules, options, your accounts", "platforms",
          {200: r.PlatformCatalog},
          description="Built from the same declarations the publish request is checked against. For TikTok, each "
                      "account's current privacy choices from creator_info (cached for a minute)."),
    # --- operations
    Route("GET", "/health", "Is the service up and its database reachable?", "operations", {200: r.Health},
          signed_in=False),
)


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\{([a-z_]+)\\}", r"(?P<\1>[^/]+)", re.escape(path)))


def _patterns() -> tuple[tuple[re.Pattern[str], Route], ...]:
    # Not cached: `re` keeps its compiled patterns, so this costs about a millisecond.
    return tuple((_pattern(route.path), route) for route in ROUTES)


def methods_for(path: str) -> list[str] | None:
    """The methods declared for `path` (a deployed path such as /publish-video/posts/<id>), or None."""
    found = [route.method for pattern, route in _patterns() if pattern.fullmatch(path)]
    return sorted(set(found)) if found else None


def find_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for a deployed path and method, with its path parameters."""
    for pattern, route in _patterns():
        if route.method == method and (match := pattern.fullmatch(path)):
            return route, match.groupdict()
    return None
