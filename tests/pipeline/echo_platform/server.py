"""The Echo platform itself, for the test: sign-in, profile, and a video endpoint over real HTTP."""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response


class EchoServer:
    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self.tokens: set[str] = set()
        self.videos: list[dict[str, Any]] = []

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(Request(environ))(environ, start_response)

    def app(self, request: Request) -> Response:
        if request.path == "/authorize":
            code = secrets.token_urlsafe(8)
            self.codes[code] = request.args["code_challenge"]
            query = urlencode({"code": code, "state": request.args["state"]})
            return Response(status=302, headers={"Location": f"{request.args['redirect_uri']}?{query}"})
        if request.path == "/token":
            if request.form.get("client_secret") != "echo-secret" or request.form["code"] not in self.codes:
                return _json({"error": "invalid_grant"}, 400)
            token = secrets.token_urlsafe(8)
            self.tokens.add(token)
            return _json({"access_token": token, "refresh_token": "r-" + token, "expires_in": 3600})
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            return _json({"error": "invalid_token"}, 401)
        if request.path == "/me":
            return _json({"id": "echo-42", "username": "echoer"})
        if request.path == "/videos" and request.method == "POST":
            video = {**(request.get_json() or {}), "id": f"v{len(self.videos) + 1}"}
            video["url"] = f"https://echo.test/{video['id']}"
            self.videos.append(video)
            return _json(video)
        if request.path == "/videos":
            return _json({"items": [v for v in self.videos if v["marker"] == request.args.get("marker")]})
        return _json({"error": "not_found"}, 404)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
