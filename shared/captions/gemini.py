"""The Gemini writer, through Google's google-genai SDK.

Structured output (https://ai.google.dev/gemini-api/docs/structured-output): the
request carries `GeminiAnswer`'s schema and the answer is validated against the same
pydantic model. The SDK retries 408/429/5xx with exponential backoff (HttpRetryOptions)
inside a per-call timeout. Every way Gemini can fail becomes one `GeminiFailed` with a
plain note for the user and the detail for the log; the caller then falls back to the
local writer. Limits are never taken on trust: the service re-checks every text.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import httpx
from google import genai
from google.auth.exceptions import GoogleAuthError
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import BaseModel, Field, ValidationError

from shared.captions.limits import PlatformTarget
from shared.captions.models import Draft, Material
from shared.captions.settings import CaptionSettings
from shared.log import get_logger

log = get_logger(__name__)

# Statuses worth another attempt (https://ai.google.dev/gemini-api/docs/troubleshooting).
RETRY_STATUSES = [408, 429, 500, 502, 503, 504]
# Finish reasons meaning the model refused or was cut off by a filter, not that it finished.
REFUSALS = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE", "OTHER",
            "IMAGE_SAFETY"}

try:  # the SDK may run on httpx2 (a fork under its own name); its timeouts must count as ours
    import httpx2

    _TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (httpx.TransportError, httpx2.TransportError)
except ImportError:  # pragma: no cover - depends on the SDK version installed
    _TRANSPORT_ERRORS = (httpx.TransportError,)


NOT_SET_UP = "Gemini is not set up correctly on our side, so these come from our built-in writer."


class PlatformText(BaseModel):
    platform: str = Field(description="The platform key exactly as given in the request")
    caption: str = Field(description="The caption (YouTube: the description), without hashtags")
    title: str = Field(description="YouTube only: the video title; empty for other platforms")
    hashtags: list[str] = Field(description="3 to 5 single-word hashtags without '#'")


class GeminiAnswer(BaseModel):
    suggestions: list[PlatformText]


class GeminiFailed(Exception):
    """Gemini gave no usable answer. `note` is for the user; `kind` and `detail` for the log."""

    def __init__(self, kind: str, note: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.note = note
        self.detail = detail


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int | None
    output_tokens: int | None


SYSTEM = (
    "You write social media captions for short vertical videos of small businesses. "
    "For each requested platform write in that platform's register (given per platform), in the requested "
    "language and tone, only from the facts given about the video: never invent prices, dates or claims. "
    "Hashtags: 3 to 5 per platform, each a single word without spaces or '#', about this video's content "
    "(not generic reach tags like fyp, viral, explore, follow4follow). Do not put hashtags in the caption. "
    "Stay well under each length limit. When the account's proven hashtags fit this video, use them."
)


def _prompt(material: Material, targets: list[PlatformTarget]) -> str:
    request = {
        "platforms": [t.key for t in targets],
        "registers": {t.key: {"platform": t.display_name, "style": t.register.style,
                              "caption_max_characters": min(t.register.caption_budget * 2, t.caption_rule.max_length),
                              "hashtags": t.register.hashtag_count,
                              **({"title_max_characters": t.register.title_budget} if t.register.wants_title else {})}
                      for t in targets},
        "language": material.language,
        "tone": material.tone,
        "video": {"description": material.description, "prompt": material.prompt, "brand": material.brand},
        "brief": material.brief,
        "campaign": material.campaign,
        "proven_hashtags": {t.key: material.proven_tags.get(t.network, [])[:10] for t in targets},
    }
    return "Write the captions for this request:\n" + json.dumps(request, ensure_ascii=False)


class GeminiWriter:
    name = "gemini"

    def __init__(self, settings: CaptionSettings) -> None:
        self.settings = settings
        self.last_usage = Usage(None, None)
        retry = types.HttpRetryOptions(attempts=settings.gemini_max_attempts,
                                       initial_delay=settings.gemini_retry_delay_seconds,
                                       max_delay=max(settings.gemini_retry_delay_seconds * 8, 1.0),
                                       http_status_codes=RETRY_STATUSES)
        options = types.HttpOptions(base_url=settings.gemini_base_url or None,
                                    timeout=int(settings.gemini_timeout_seconds * 1000), retry_options=retry)
        try:
            if settings.gemini_use_vertex:
                # The service account's Application Default Credentials; no key in the environment.
                self.client = genai.Client(vertexai=True, project=settings.google_cloud_project,
                                           location=settings.gemini_vertex_location, http_options=options)
            else:
                key = settings.gemini_api_key.get_secret_value() if settings.gemini_api_key else None
                self.client = genai.Client(api_key=key, http_options=options)
        except (ValueError, GoogleAuthError) as exc:  # no key, no project, no credentials
            raise GeminiFailed("auth", NOT_SET_UP, f"client: {exc}") from None

    def write(self, material: Material, targets: list[PlatformTarget]) -> list[Draft]:
        started = time.perf_counter()
        config = types.GenerateContentConfig(system_instruction=SYSTEM, response_mime_type="application/json",
                                             response_schema=GeminiAnswer, temperature=0.7)
        try:
            response = self.client.models.generate_content(model=self.settings.gemini_model,
                                                           contents=_prompt(material, targets), config=config)
        except genai_errors.APIError as exc:
            raise _api_failure(exc) from None
        except GoogleAuthError as exc:
            raise GeminiFailed("auth", NOT_SET_UP, f"credentials: {exc}") from None
        except _TRANSPORT_ERRORS as exc:
            raise GeminiFailed("transient", "Gemini did not answer in time, so these come from our built-in writer.",
                               type(exc).__name__) from None
        usage = response.usage_metadata
        self.last_usage = Usage(usage.prompt_token_count if usage else None,
                                usage.candidates_token_count if usage else None)
        # Token counts per request, for cost (field names avoid "token": the log redacts such keys).
        log.info("gemini answered", model=self.settings.gemini_model, usage_prompt=self.last_usage.prompt_tokens,
                 usage_output=self.last_usage.output_tokens, usage_total=usage.total_token_count if usage else None,
                 latency_ms=round((time.perf_counter() - started) * 1000))
        return _drafts(response, targets)


def _api_failure(exc: genai_errors.APIError) -> GeminiFailed:
    detail = f"{exc.code} {exc.status}: {exc.message}"
    if exc.code == 429:
        return GeminiFailed("quota", "Gemini is busy right now (its rate limit), so these come from our built-in "
                            "writer.", detail)
    if exc.code in (401, 403) or (exc.code == 400 and "API key" in (exc.message or "")):
        return GeminiFailed("auth", NOT_SET_UP, detail)
    if exc.code >= 500 or exc.code == 408:
        return GeminiFailed("transient", "Gemini had a problem answering, so these come from our built-in writer.",
                            detail)
    return GeminiFailed("permanent", "Gemini could not take this request, so these come from our built-in writer.",
                        detail)


def _drafts(response: types.GenerateContentResponse, targets: list[PlatformTarget]) -> list[Draft]:
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        raise GeminiFailed("refused", "Gemini declined to write about this video (its safety filter), so these "
                           "come from our built-in writer.", f"prompt blocked: {feedback.block_reason}")
    candidate = response.candidates[0] if response.candidates else None
    reason = candidate.finish_reason.value if candidate is not None and candidate.finish_reason else None
    if candidate is None or reason in REFUSALS:
        raise GeminiFailed("refused", "Gemini declined to write about this video (its safety filter), so these "
                           "come from our built-in writer.", f"finish reason {reason}")
    try:
        answer = GeminiAnswer.model_validate_json(response.text or "")
    except ValidationError as exc:
        raise GeminiFailed("invalid_answer", "Gemini's answer could not be read, so these come from our built-in "
                           "writer.", f"{reason}: {exc.error_count()} problem(s)") from None
    by_platform = {item.platform.strip().lower(): item for item in answer.suggestions}
    missing = [t.key for t in targets if t.key not in by_platform]
    if missing:
        raise GeminiFailed("invalid_answer", "Gemini's answer left out a platform, so these come from our built-in "
                           "writer.", f"missing {', '.join(missing)}")
    return [Draft(platform=t.key, caption=by_platform[t.key].caption.strip(),
                  hashtags=list(by_platform[t.key].hashtags),
                  title=(by_platform[t.key].title.strip() or None) if t.register.wants_title else None)
            for t in targets]
