"""Gemini API stand-in, mounted under /gemini: the `generateContent` call the google-genai SDK makes.

Point the SDK at it with `HttpOptions(base_url=<sandbox>/gemini)` (GEMINI_BASE_URL). Both
forms of the path are answered, as in https://ai.google.dev/api/generate-content and
Vertex AI's projects.locations.publishers.models.generateContent
(https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest):

  POST /gemini/{version}/models/{model}:generateContent                           (API key in x-goog-api-key)
  POST /gemini/{version}/projects/{p}/locations/{l}/publishers/google/models/{model}:generateContent  (Bearer)

Keys and tokens: `sb.mint_token("gemini", "<project>")`. The answer follows the request's
`responseSchema`: for a JSON request naming "platforms" the stand-in writes one item per
platform from the words of the prompt, the way a model would fill the schema, and
reports `usageMetadata` (about four characters a token). Error bodies are Google's
`{"error": {"code", "message", "status"}}` (https://ai.google.dev/gemini-api/docs/troubleshooting).

Fault operation: generate. Kinds: rate_limited (429 RESOURCE_EXHAUSTED), server_error
(500 INTERNAL), unavailable (503), blocked (promptFeedback.blockReason SAFETY, no
candidates), unsafe_answer (candidate finishReason SAFETY, no content), malformed
(text that is not JSON), answer (params.answer: this JSON object as the model's text),
plus the generic timeout / reset / status / slow.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, Response, jsonify, request

from sandbox.core import Sandbox, TokenProblem, generic_fault

PLATFORM = "gemini"
_PATH = re.compile(
    r"^(?P<version>v1\w*)/(?:projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/publishers/google/)?"
    r"models/(?P<model>[\w.\-]+):generateContent$"
)
_WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)


def _error(code: int, status: str, message: str) -> Response:
    response = jsonify(error={"code": code, "message": message, "status": status})
    response.status_code = code
    return response


def _prompt_text(body: dict[str, Any]) -> str:
    return "\n".join(part.get("text", "") for content in body.get("contents", []) for part in content.get("parts", []))


def _request_json(prompt: str) -> dict[str, Any]:
    start, end = prompt.find("{"), prompt.rfind("}")
    if start < 0 or end < start:
        return {}
    try:
        found = json.loads(prompt[start:end + 1])
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _fill(schema: dict[str, Any], asked: dict[str, Any], item: dict[str, Any]) -> Any:
    """A value for `schema`, written from what the request asked (the stand-in's 'model')."""
    kind = str(schema.get("type", "STRING")).upper()
    if kind == "OBJECT":
        return {name: _fill(sub, asked, {**item, "_field": name}) for name, sub in schema.get("properties", {}).items()}
    if kind == "ARRAY":
        sub = schema.get("items", {})
        if str(sub.get("type", "")).upper() == "OBJECT" and asked.get("platforms"):
            return [_fill(sub, asked, {"platform": p}) for p in asked["platforms"]]
        return [_fill(sub, asked, item) for _ in range(4)] if item.get("_field") != "hashtags" else _tags(asked)
    if kind in ("INTEGER", "NUMBER"):
        return 0
    if kind == "BOOLEAN":
        return False
    return _text(item, asked)


def _about(asked: dict[str, Any]) -> str:
    video = asked.get("video") or {}
    return " ".join(str(v) for v in (video.get("description"), asked.get("brief"), video.get("prompt")) if v) or "this"


def _tags(asked: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    for word in _WORD.findall(_about(asked)):
        if word.lower() not in seen:
            seen.append(word.lower())
    return seen[:4] or ["video"]


def _text(item: dict[str, Any], asked: dict[str, Any]) -> str:
    about = _about(asked).split(".")[0].strip()
    field, platform = item.get("_field"), item.get("platform", "")
    if field == "platform":
        return str(platform)
    if field == "title":
        return about[:90] if platform == "youtube" else ""
    if platform == "tiktok":
        return f"Wait for it… {about}."
    if platform == "instagram":
        return f"✨ {about}.\n\nSave this for later 📌"
    return f"{about}. What do you think?"


def _tokens(value: str) -> int:
    return max(1, len(value) // 4)


def register(app: Flask, sb: Sandbox) -> None:
    def requests_seen() -> list[dict[str, Any]]:
        return sb.store(PLATFORM).setdefault("requests", [])

    @app.post("/gemini/<path:rest>")
    def _generate(rest: str) -> Response:
        match = _PATH.match(rest)
        if match is None:
            return _error(404, "NOT_FOUND", f"Method not found: {rest}")
        vertex = match["project"] is not None
        body = request.get_json(silent=True)
        with sb.lock:  # every call, also the refused ones: tests count attempts
            requests_seen().append({"model": match["model"], "version": match["version"], "vertex": vertex,
                                    "project": match["project"], "location": match["location"], "body": body})
        credential = (request.headers.get("Authorization", "").removeprefix("Bearer ").strip() if vertex
                      else request.headers.get("x-goog-api-key") or request.args.get("key"))
        try:
            sb.check_token(PLATFORM, credential)
        except TokenProblem:
            if vertex:
                return _error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
            return _error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
        if not isinstance(body, dict) or not body.get("contents"):
            return _error(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified")
        prompt = _prompt_text(body)
        config = body.get("generationConfig") or {}
        fault = sb.take_fault(PLATFORM, "generate")
        usage = {"promptTokenCount": _tokens(prompt)}
        if fault is not None:
            generic = generic_fault(fault)
            if generic is not None:
                return generic
            if fault.kind == "rate_limited":
                return _error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")
            if fault.kind == "server_error":
                return _error(500, "INTERNAL", "An internal error has occurred. Please retry.")
            if fault.kind == "unavailable":
                return _error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
            if fault.kind == "blocked":
                return jsonify(promptFeedback={"blockReason": "SAFETY", "safetyRatings": [
                    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}]},
                    usageMetadata={**usage, "totalTokenCount": usage["promptTokenCount"]},
                    modelVersion=match["model"])
            if fault.kind == "unsafe_answer":
                return jsonify(candidates=[{"finishReason": "SAFETY", "index": 0, "safetyRatings": [
                    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True}]}],
                    usageMetadata={**usage, "totalTokenCount": usage["promptTokenCount"]},
                    modelVersion=match["model"])
        if fault is not None and fault.kind == "malformed":
            answer_text = '{"suggestions": [{"platform": "tiktok", "caption": "Wait for it'
        elif fault is not None and fault.kind == "answer":
            answer_text = json.dumps(fault.params.get("answer"), ensure_ascii=False)
        elif config.get("responseMimeType") == "application/json" and config.get("responseSchema"):
            answer_text = json.dumps(_fill(config["responseSchema"], _request_json(prompt), {}), ensure_ascii=False)
        else:
            answer_text = f"About {_about(_request_json(prompt))}."
        usage["candidatesTokenCount"] = _tokens(answer_text)
        usage["totalTokenCount"] = usage["promptTokenCount"] + usage["candidatesTokenCount"]
        return jsonify(candidates=[{"content": {"role": "model", "parts": [{"text": answer_text}]},
                                    "finishReason": "STOP", "index": 0}],
                       usageMetadata=usage, modelVersion=match["model"])
