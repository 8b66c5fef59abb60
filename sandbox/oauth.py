"""OAuth and profile endpoints of every platform, as the real ones behave.

Authorize endpoints approve at once for a sandbox account: the one named by the
`sandbox_account` query parameter, else the platform's first account, else a
default test account created on the spot (`sandbox_deny=1` answers like a user
who clicked "Cancel"; `sandbox_unticked=youtube.force-ssl` like one who left a scope unticked on
Google's consent screen). Redirect URIs must be registered: loopback URLs ending in
`/oauth/callback/<platform>` are, plus any listed in config `<platform>.redirect_uris`.

Codes are single use and short-lived; PKCE is verified whenever the authorize
request carried a challenge. TikTok refresh tokens rotate (the old one dies).
Lifetimes follow the platforms and can be overridden through config, e.g.
`{"tiktok.access_ttl": 60}`. Tokens are minted with `sb.mint_token`, so every
publishing simulator accepts them.

Accounts: `sb.add_account(platform, id, **attrs)`, e.g. Instagram
`account_type="PERSONAL"`, YouTube `has_channel=False`, Facebook
`pages=[{"id": ..., "name": ...}]`, Blotato `tiktok_accounts=[...]`.

Fault operations: authorize, token, refresh, revoke, profile, long_lived, pages.
Kinds: the generic ones plus `server_error` (the platform's 5xx body) and the ways
each token endpoint refuses *our app* (`CLIENT_REFUSALS`): `invalid_client`,
`unauthorized_client`, `deleted_client` (Google), `client_401` (a 401 without an
OAuth error). Setting `<platform>.client_secret` in the config makes every call
with another secret refused the platform's way, as after a rotated secret.

Revocation endpoints refuse a token sent in the URL query (and record it in the
oauth store's `tokens_in_url`): real platforms may accept it, but URLs end up in
access logs and proxies, so the product must send tokens in the body or a header.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlparse

from flask import Flask, Response, jsonify, redirect, request
from werkzeug.wrappers import Response as RedirectResponse  # what flask.redirect answers

from sandbox.core import Sandbox, TokenProblem, bearer_token, generic_fault
from sandbox.facebook import all_pages

DAY = 86400.0
LIFETIMES: dict[str, dict[str, float]] = {
    "tiktok": {"access_ttl": 7200, "refresh_ttl": 180 * DAY, "code_ttl": 600},
    "youtube": {"access_ttl": 3599, "code_ttl": 600},
    "instagram": {"short_ttl": 3600, "long_ttl": 60 * DAY, "code_ttl": 3600, "refresh_min_age_s": DAY},
    "facebook": {"short_ttl": 7200, "long_ttl": 60 * DAY, "page_ttl": 3650 * DAY, "code_ttl": 600},
}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _ttl(sb: Sandbox, platform: str, name: str) -> float:
    return float(sb.setting(name, platform, LIFETIMES[platform][name]))


def _state(sb: Sandbox) -> dict[str, Any]:
    st = sb.store("oauth")
    st.setdefault("codes", {})
    st.setdefault("issued", {})
    st.setdefault("refresh_calls", {})
    st.setdefault("revoked_calls", [])
    st.setdefault("tokens_in_url", [])
    return st


def _new_id(prefix: str = "") -> str:
    return prefix + str(secrets.randbelow(10**15) + 10**15)


def _default_account(sb: Sandbox, platform: str) -> dict[str, Any]:
    if platform == "tiktok":
        return sb.add_account("tiktok", "act." + secrets.token_hex(12), username="sandbox.creator",
                              display_name="Sandbox Creator", union_id=secrets.token_hex(8),
                              avatar_url="https://p16.tiktokcdn.example/avatar.jpeg", follower_count=1234)
    if platform == "instagram":
        return sb.add_account("instagram", _new_id("1784"), username="sandbox.business", name="Sandbox Business",
                              account_type="BUSINESS", followers_count=4321,
                              profile_picture_url="https://scontent.cdninstagram.example/p.jpg")
    if platform == "facebook":
        return sb.add_account("facebook", _new_id(), name="Sandbox User", kind="user",
                              pages=[{"id": _new_id(), "name": "Sandbox Page", "category": "Creator",
                                      "followers_count": 321}])
    if platform == "youtube":
        return sb.add_account("youtube", "UC" + secrets.token_urlsafe(16)[:22], title="Sandbox Channel",
                              custom_url="@sandboxchannel", has_channel=True, subscriber_count=99)
    raise KeyError(platform)


def _choose_account(sb: Sandbox, platform: str) -> dict[str, Any] | None:
    wanted = request.args.get("sandbox_account")
    if wanted:
        return sb.account(platform, wanted)
    with sb.lock:
        mine = [a for (p, _), a in sb.accounts.items() if p == platform and a.get("kind") != "page"]
    return mine[0] if mine else _default_account(sb, platform)


def _redirect_registered(sb: Sandbox, platform: str, uri: str) -> bool:
    configured = sb.setting("redirect_uris", platform) or []
    if uri in configured:
        return True
    parsed = urlparse(uri)
    return (parsed.scheme in ("http", "https") and parsed.hostname in LOOPBACK and not parsed.query
            and parsed.path.rstrip("/").endswith(f"/oauth/callback/{platform}"))


def _client_ok(sb: Sandbox, platform: str, client_id: str | None, secret: str | None = None,
               need_secret: bool = True) -> bool:
    if not client_id or (need_secret and not secret):
        return False
    want_id = sb.setting("client_id", platform)
    want_secret = sb.setting("client_secret", platform)
    return (want_id is None or want_id == client_id) and (
        not need_secret or want_secret is None or want_secret == secret)


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _tiktok_refusal(error: str, description: str) -> Any:
    return lambda: (400, {"error": error, "error_description": description, "log_id": _log_id()})


def _graph_refusal(message: str, code: int) -> Any:
    return lambda: (400, {"error": {"message": message, "type": "OAuthException", "code": code,
                                    "fbtrace_id": secrets.token_urlsafe(8)}})


# How each token endpoint refuses our app's credentials (not the user's grant).
CLIENT_REFUSALS: dict[str, dict[str, Any]] = {
    # https://developers.tiktok.com/doc/oauth-error-handling: string `error` categories with a
    # description and log_id; the HTTP status is not documented (the sandbox answers 400).
    "tiktok": {
        "invalid_client": _tiktok_refusal("invalid_client", "Client key or secret is invalid"),
        "unauthorized_client": _tiktok_refusal("unauthorized_client",
                                               "The client is not authorized to use this grant type"),
        "client_401": lambda: (401, "Unauthorized"),
    },
    # Google's token endpoint: 401 with an RFC 6749 error; `deleted_client` once the client is deleted
    # (https://developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code).
    "youtube": {
        "invalid_client": lambda: (401, {"error": "invalid_client", "error_description": "Unauthorized"}),
        "unauthorized_client": lambda: (401, {"error": "unauthorized_client", "error_description": "Unauthorized"}),
        "deleted_client": lambda: (401, {"error": "deleted_client",
                                         "error_description": "The OAuth client was deleted."}),
        "client_401": lambda: (401, ""),
    },
    # Graph API: code 1 for a wrong app secret, 101 for an unknown app id (HTTP 400).
    "facebook": {
        "invalid_client": _graph_refusal("Error validating client secret.", 1),
        "unauthorized_client": _graph_refusal("Error validating application. Invalid application ID.", 101),
        "client_401": lambda: (401, ""),
    },
    # Instagram Login's code exchange: "Invalid platform app" (HTTP 400); Graph: code 101.
    "instagram": {
        "invalid_client": lambda: (400, {"error_type": "OAuthException", "code": 400,
                                         "error_message": "Invalid platform app"}),
        "unauthorized_client": _graph_refusal("Error validating application. Invalid application ID.", 101),
        "client_401": lambda: (401, ""),
    },
}


def _client_refusal(platform: str, kind: str) -> Response:
    status, body = CLIENT_REFUSALS[platform][kind]()
    if isinstance(body, str):
        return Response(body, status=status, content_type="text/plain")
    return _json(body, status)


def _fault(sb: Sandbox, platform: str, operation: str, server_error: Any) -> Response | None:
    fault = sb.take_fault(platform, operation)
    if fault is None:
        return None
    answer = generic_fault(fault)
    if answer is not None:
        return answer
    if fault.kind == "server_error":
        return _json(server_error, 500)
    if fault.kind in CLIENT_REFUSALS.get(platform, {}):
        return _client_refusal(platform, fault.kind)
    return None


def _token_in_url(sb: Sandbox, platform: str, refuse: Any) -> Response | None:
    """A revoke call carrying a token in its query string: recorded and refused."""
    leaked = sorted(k for k in request.args if k in ("token", "access_token", "refresh_token"))
    if not leaked:
        return None
    with sb.lock:
        _state(sb)["tokens_in_url"].append((platform, request.path, tuple(leaked)))
    return refuse(f"Send the token in the request body or Authorization header, not the URL ({', '.join(leaked)})")


def _json(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def _log_id() -> str:
    return time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(8).upper()


# ------------------------------------------------------------------------ authorize


def _authorize(sb: Sandbox, platform: str, client_param: str, refuse: Any) -> RedirectResponse:
    """Auto-approve and redirect with code and state, or refuse like the platform does."""
    fault = _fault(sb, platform, "authorize", {"error": "server_error"})
    if fault is not None:
        return fault
    args = request.args
    redirect_uri = args.get("redirect_uri", "")
    if not _redirect_registered(sb, platform, redirect_uri):
        return refuse("redirect_uri")
    if not _client_ok(sb, platform, args.get(client_param), need_secret=False) or args.get("response_type") != "code":
        return refuse("client")
    state = args.get("state")
    if args.get("sandbox_deny"):
        return redirect(_with_query(redirect_uri, {"error": "access_denied", "state": state}))
    account = _choose_account(sb, platform)
    if account is None:
        return refuse("account")
    code = secrets.token_urlsafe(24)
    separator = "," if "," in args.get("scope", "") else " "
    # Google's consent screen lets the user untick scopes (granular permissions), and the token
    # answer then names only the granted ones:
    # https://developers.google.com/identity/protocols/oauth2/resources/granular-permissions
    # `sandbox_unticked` (names, comma-separated, matched at the end of the scope URL) plays that user.
    unticked = tuple(s for s in args.get("sandbox_unticked", "").split(",") if s)
    scopes = tuple(s for s in args.get("scope", "").split(separator)
                   if s and not any(s.endswith(name) for name in unticked))
    _state(sb)["codes"][code] = {
        "platform": platform, "account_id": account["id"], "client_id": args.get(client_param),
        "redirect_uri": redirect_uri, "scopes": scopes,
        "challenge": args.get("code_challenge"), "method": args.get("code_challenge_method", "plain"),
        "expires_at": time.time() + _ttl(sb, platform, "code_ttl"), "used": False,
        "offline": args.get("access_type") == "offline",
    }
    return redirect(_with_query(redirect_uri, {"code": code, "state": state}))


def _with_query(uri: str, params: dict[str, Any]) -> str:
    clean = {k: v for k, v in params.items() if v is not None}
    return f"{uri}{'&' if '?' in uri else '?'}{urlencode(clean)}"


def _take_code(sb: Sandbox, platform: str, code: str | None, client_id: str | None, redirect_uri: str | None,
               verifier: str | None) -> tuple[dict[str, Any] | None, str]:
    """The code's grant, or (None, reason): unknown/used/expired/redirect/pkce."""
    with sb.lock:
        grant = _state(sb)["codes"].get(code or "")
        if grant is None or grant["platform"] != platform:
            return None, "unknown"
        if grant["used"]:
            return None, "used"
        grant["used"] = True
    if grant["expires_at"] < time.time():
        return None, "expired"
    if grant["redirect_uri"] != redirect_uri:
        return None, "redirect"
    if grant["client_id"] != client_id:
        return None, "client"
    if grant["challenge"]:
        expected = _challenge(verifier or "") if grant["method"] == "S256" else verifier
        if not verifier or expected != grant["challenge"]:
            return None, "pkce"
    return grant, ""


def _mint(sb: Sandbox, platform: str, account_id: str, ttl: float, scopes: tuple[str, ...] = (),
          kind: str = "access") -> str:
    token = sb.mint_token(platform, account_id, kind=kind, ttl=ttl, scopes=scopes)
    _state(sb)["issued"][token.value] = time.time()
    return token.value


def _count_refresh(sb: Sandbox, platform: str, account_id: str) -> None:
    """Refresh calls per account, for tests that assert "refreshed exactly once"."""
    with sb.lock:
        calls = _state(sb)["refresh_calls"]
        calls[f"{platform}:{account_id}"] = calls.get(f"{platform}:{account_id}", 0) + 1


# --------------------------------------------------------------------------- TikTok


def _tiktok(app: Flask, sb: Sandbox) -> None:
    def oauth_error(error: str, description: str, status: int = 400) -> Response:
        return _json({"error": error, "error_description": description, "log_id": _log_id()}, status)

    def api_error(code: str, message: str, status: int) -> Response:
        return _json({"data": {}, "error": {"code": code, "message": message, "log_id": _log_id()}}, status)

    @app.get("/tiktok-www/v2/auth/authorize/")
    def tiktok_authorize() -> RedirectResponse:
        def refuse(what: str) -> Response:
            problem = {"redirect_uri": "redirect_uri", "client": "client_key", "account": "account"}[what]
            return oauth_error("invalid_request", f"Invalid {problem}")
        return _authorize(sb, "tiktok", "client_key", refuse)

    @app.post("/tiktok/v2/oauth/token/")
    def tiktok_token() -> Response:
        form = request.form
        grant_type = form.get("grant_type")
        operation = "refresh" if grant_type == "refresh_token" else "token"
        fault = _fault(sb, "tiktok", operation, {"error": "server_error", "error_description": "Internal error",
                                                 "log_id": _log_id()})
        if fault is not None:
            return fault
        if not _client_ok(sb, "tiktok", form.get("client_key"), form.get("client_secret")):
            return oauth_error("invalid_client", "Client key or secret is invalid")
        if grant_type == "authorization_code":
            grant, reason = _take_code(sb, "tiktok", form.get("code"), form.get("client_key"),
                                       form.get("redirect_uri"), form.get("code_verifier"))
            if grant is None:
                if reason == "redirect":
                    return oauth_error("invalid_request", "redirect_uri does not match")
                return oauth_error("invalid_grant", f"Authorization code is invalid ({reason})")
            account_id, scopes = grant["account_id"], grant["scopes"]
        elif grant_type == "refresh_token":
            try:
                old = sb.check_token("tiktok", form.get("refresh_token"), kind="refresh")
            except TokenProblem as exc:
                return oauth_error("invalid_grant", f"Refresh token is invalid or expired ({exc.reason})")
            _count_refresh(sb, "tiktok", old.account_id)
            with sb.lock:
                old.revoked = True  # rotation: the old refresh token dies now
            account_id, scopes = old.account_id, old.scopes
        else:
            return oauth_error("unsupported_grant_type", "Grant type is not supported")
        access_ttl, refresh_ttl = _ttl(sb, "tiktok", "access_ttl"), _ttl(sb, "tiktok", "refresh_ttl")
        return _json({
            "access_token": _mint(sb, "tiktok", account_id, access_ttl, scopes),
            "expires_in": int(access_ttl),
            "open_id": account_id,
            "refresh_token": _mint(sb, "tiktok", account_id, refresh_ttl, scopes, kind="refresh"),
            "refresh_expires_in": int(refresh_ttl),
            "scope": ",".join(scopes),
            "token_type": "Bearer",
        })

    @app.post("/tiktok/v2/oauth/revoke/")
    def tiktok_revoke() -> Response:
        fault = _fault(sb, "tiktok", "revoke", {"error": "server_error"})
        if fault is not None:
            return fault
        leaked = _token_in_url(sb, "tiktok", lambda why: oauth_error("invalid_request", why))
        if leaked is not None:
            return leaked
        if not _client_ok(sb, "tiktok", request.form.get("client_key"), request.form.get("client_secret")):
            return oauth_error("invalid_client", "Client key or secret is invalid")
        try:
            token = sb.check_token("tiktok", request.form.get("token"))
        except TokenProblem as exc:
            return oauth_error("invalid_request", f"Token is invalid ({exc.reason})")
        sb.revoke_account_tokens("tiktok", token.account_id)
        _state(sb)["revoked_calls"].append(("tiktok", token.account_id))
        return _json({})

    @app.get("/tiktok/v2/user/info/")
    def tiktok_user_info() -> Response:
        fault = _fault(sb, "tiktok", "profile", {"data": {}, "error": {"code": "internal_error",
                                                                       "message": "", "log_id": _log_id()}})
        if fault is not None:
            return fault
        try:
            token = sb.check_token("tiktok", bearer_token())
        except TokenProblem as exc:
            return api_error("access_token_invalid", f"The access token is invalid ({exc.reason}).", 401)
        account = sb.account("tiktok", token.account_id) or {}
        known = {"open_id": token.account_id, "union_id": account.get("union_id"),
                 "avatar_url": account.get("avatar_url"), "display_name": account.get("display_name"),
                 "username": account.get("username"), "follower_count": account.get("follower_count")}
        fields = [f for f in request.args.get("fields", "open_id").split(",") if f]
        if "follower_count" in fields and "user.info.stats" not in token.scopes:
            return api_error("scope_not_authorized", "user.info.stats is not authorized", 401)
        return _json({"data": {"user": {f: known.get(f) for f in fields if f in known}},
                      "error": {"code": "ok", "message": "", "log_id": _log_id()}})

    if importlib.util.find_spec("sandbox.tiktok") is None:
        # Until the TikTok publishing simulator (sandbox/tiktok.py) serves it.
        @app.post("/tiktok/v2/post/publish/creator_info/query/")
        def tiktok_creator_info_fallback() -> Response:
            try:
                token = sb.check_token("tiktok", bearer_token())
            except TokenProblem as exc:
                return api_error("access_token_invalid", f"The access token is invalid ({exc.reason}).", 401)
            account = sb.account("tiktok", token.account_id) or {}
            return _json({"data": {
                "creator_avatar_url": account.get("avatar_url"), "creator_username": account.get("username"),
                "creator_nickname": account.get("display_name"),
                "privacy_level_options": account.get(
                    "privacy_level_options", ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]),
                "comment_disabled": False, "duet_disabled": False, "stitch_disabled": False,
                "max_video_post_duration_sec": account.get("max_video_post_duration_sec", 600),
            }, "error": {"code": "ok", "message": "", "log_id": _log_id()}})


# ------------------------------------------------------------------------ Instagram


def _graph_error(message: str, code: int, subcode: int | None = None, status: int = 400) -> Response:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code,
                             "fbtrace_id": secrets.token_urlsafe(8)}
    if subcode:
        error["error_subcode"] = subcode
    return _json({"error": error}, status)


def _instagram(app: Flask, sb: Sandbox) -> None:
    def login_error(message: str, status: int = 400) -> Response:
        return _json({"error_type": "OAuthException", "code": status, "error_message": message}, status)

    @app.get("/instagram-www/oauth/authorize")
    def instagram_authorize() -> RedirectResponse:
        return _authorize(sb, "instagram", "client_id",
                          lambda what: login_error(f"Invalid {what}: not registered for this app"))

    @app.post("/instagram-api/oauth/access_token")
    def instagram_token() -> Response:
        fault = _fault(sb, "instagram", "token", {"error_type": "OAuthException", "code": 500,
                                                  "error_message": "An unknown error has occurred."})
        if fault is not None:
            return fault
        form = request.form
        if not _client_ok(sb, "instagram", form.get("client_id"), form.get("client_secret")):
            return login_error("Invalid platform app")
        if form.get("grant_type") != "authorization_code":
            return login_error("Unsupported grant_type")
        grant, reason = _take_code(sb, "instagram", form.get("code"), form.get("client_id"),
                                   form.get("redirect_uri"), form.get("code_verifier"))
        if grant is None:
            if reason == "redirect":
                return login_error("Error validating verification code. Please make sure your redirect_uri is "
                                   "identical to the one you used in the OAuth dialog request")
            return login_error("This authorization code has been used" if reason == "used"
                               else "Invalid authorization code")
        token = _mint(sb, "instagram", grant["account_id"], _ttl(sb, "instagram", "short_ttl"), grant["scopes"])
        return _json({"data": [{"access_token": token, "user_id": grant["account_id"],
                                "permissions": ",".join(grant["scopes"])}]})

    def long_lived(token_value: str | None, operation: str) -> Response:
        fault = _fault(sb, "instagram", operation, {"error": {"message": "An unexpected error has occurred.",
                                                              "type": "OAuthException", "code": 2}})
        if fault is not None:
            return fault
        try:
            token = sb.check_token("instagram", token_value)
        except TokenProblem as exc:
            return _graph_error(f"Error validating access token: {exc.reason}", 190, 463 if exc.reason == "expired"
                                else 467)
        if operation == "refresh":
            _count_refresh(sb, "instagram", token.account_id)
            age = time.time() - _state(sb)["issued"].get(token.value, 0)
            if age < _ttl(sb, "instagram", "refresh_min_age_s"):
                return _graph_error("The access token is too new to be refreshed (at least 24 hours).", 100)
        ttl = _ttl(sb, "instagram", "long_ttl")
        value = _mint(sb, "instagram", token.account_id, ttl, token.scopes)
        return _json({"access_token": value, "token_type": "bearer", "expires_in": int(ttl)})

    @app.get("/instagram-graph/access_token")
    def instagram_long_lived() -> Response:
        if request.args.get("grant_type") != "ig_exchange_token":
            return _graph_error("Unsupported grant_type", 100)
        if not request.args.get("client_secret"):
            return _graph_error("Missing client_secret", 100)
        return long_lived(request.args.get("access_token"), "long_lived")

    @app.get("/instagram-graph/refresh_access_token")
    def instagram_refresh() -> Response:
        if request.args.get("grant_type") != "ig_refresh_token":
            return _graph_error("Unsupported grant_type", 100)
        return long_lived(request.args.get("access_token"), "refresh")

    def me() -> Response:
        fault = _fault(sb, "instagram", "profile", {"error": {"message": "An unexpected error has occurred.",
                                                              "type": "OAuthException", "code": 2}})
        if fault is not None:
            return fault
        try:
            token = sb.check_token("instagram", bearer_token())
        except TokenProblem as exc:
            return _graph_error(f"Error validating access token: {exc.reason}", 190)
        account = sb.account("instagram", token.account_id) or {}
        known = {"id": f"app-scoped-{token.account_id}", "user_id": token.account_id,
                 "username": account.get("username"), "name": account.get("name"),
                 "account_type": account.get("account_type", "BUSINESS"),
                 "profile_picture_url": account.get("profile_picture_url"),
                 "followers_count": account.get("followers_count")}
        fields = request.args.get("fields", "id,username").split(",")
        return _json({f: known[f] for f in fields if f in known and known[f] is not None})

    app.add_url_rule("/instagram-graph/me", "instagram_me", me)
    app.add_url_rule("/instagram-graph/<version>/me", "instagram_me_versioned", lambda version: me())


# ------------------------------------------------------------------------- Facebook


def _facebook(app: Flask, sb: Sandbox) -> None:
    @app.get("/facebook-www/<version>/dialog/oauth")
    def facebook_dialog(version: str) -> RedirectResponse:
        def refuse(what: str) -> Response:
            if what == "redirect_uri":
                return Response("URL Blocked: This redirect failed because the redirect URI is not whitelisted "
                                "in the app's Client OAuth Settings.", status=400)
            return Response(f"Invalid {what}", status=400)
        return _authorize(sb, "facebook", "client_id", refuse)

    @app.get("/facebook-graph/<version>/oauth/access_token")
    def facebook_token(version: str) -> Response:
        args = request.args
        exchanging = args.get("grant_type") == "fb_exchange_token"
        fault = _fault(sb, "facebook", "long_lived" if exchanging else "token",
                       {"error": {"message": "An unexpected error has occurred.", "type": "OAuthException",
                                  "code": 2, "is_transient": True}})
        if fault is not None:
            return fault
        if not _client_ok(sb, "facebook", args.get("client_id"), args.get("client_secret")):
            return _graph_error("Error validating client secret.", 1)
        if exchanging:
            try:
                token = sb.check_token("facebook", args.get("fb_exchange_token"))
            except TokenProblem as exc:
                return _graph_error(f"Error validating access token: {exc.reason}", 190)
            ttl = _ttl(sb, "facebook", "long_ttl")
            return _json({"access_token": _mint(sb, "facebook", token.account_id, ttl, token.scopes),
                          "token_type": "bearer", "expires_in": int(ttl)})
        grant, reason = _take_code(sb, "facebook", args.get("code"), args.get("client_id"),
                                   args.get("redirect_uri"), args.get("code_verifier"))
        if grant is None:
            if reason == "redirect":
                return _graph_error("Can't load URL: redirect_uri isn't identical to the one used in the dialog.",
                                    100, 36008)
            return _graph_error("This authorization code has been used." if reason == "used"
                                else "Invalid verification code format.", 100, 36009 if reason == "used" else 36007)
        ttl = _ttl(sb, "facebook", "short_ttl")
        return _json({"access_token": _mint(sb, "facebook", grant["account_id"], ttl, grant["scopes"]),
                      "token_type": "bearer", "expires_in": int(ttl)})

    def user_token() -> Any:
        try:
            return sb.check_token("facebook", bearer_token())
        except TokenProblem as exc:
            return _graph_error(f"Error validating access token: {exc.reason}", 190,
                                463 if exc.reason == "expired" else 460 if exc.reason == "revoked" else None)

    @app.get("/facebook-graph/<version>/me")
    def facebook_me(version: str) -> Response:
        fault = _fault(sb, "facebook", "profile", {"error": {"message": "Unexpected", "code": 2}})
        if fault is not None:
            return fault
        token = user_token()
        if isinstance(token, Response):
            return token
        account = sb.account("facebook", token.account_id) or {}
        return _json({"id": token.account_id, "name": account.get("name")})

    # The Page lists (/me/accounts, /me/businesses, owned_pages, client_pages) are in sandbox/facebook.py.

    @app.delete("/facebook-graph/<version>/me/permissions")
    def facebook_revoke(version: str) -> Response:
        fault = _fault(sb, "facebook", "revoke", {"error": {"message": "Unexpected", "code": 2}})
        if fault is not None:
            return fault
        leaked = _token_in_url(sb, "facebook", lambda why: _graph_error(why, 100))
        if leaked is not None:
            return leaked
        token = user_token()
        if isinstance(token, Response):
            return token
        account = sb.account("facebook", token.account_id) or {}
        sb.revoke_account_tokens("facebook", token.account_id)
        for page in all_pages(account):
            sb.revoke_account_tokens("facebook", str(page["id"]))
        _state(sb)["revoked_calls"].append(("facebook", token.account_id))
        return _json({"success": True})


# --------------------------------------------------------------------------- Google


def _google(app: Flask, sb: Sandbox) -> None:
    def oauth_error(error: str, description: str, status: int = 400) -> Response:
        return _json({"error": error, "error_description": description}, status)

    @app.get("/google-accounts/o/oauth2/v2/auth")
    def google_authorize() -> RedirectResponse:
        def refuse(what: str) -> Response:
            if what == "redirect_uri":
                return Response("Error 400: redirect_uri_mismatch", status=400)
            return Response(f"Error 400: invalid_request ({what})", status=400)
        return _authorize(sb, "youtube", "client_id", refuse)

    @app.post("/google-oauth2/token")
    def google_token() -> Response:
        form = request.form
        grant_type = form.get("grant_type")
        fault = _fault(sb, "youtube", "refresh" if grant_type == "refresh_token" else "token",
                       {"error": "internal_failure", "error_description": "Backend Error"})
        if fault is not None:
            return fault
        if not _client_ok(sb, "youtube", form.get("client_id"), form.get("client_secret")):
            known_id = _client_ok(sb, "youtube", form.get("client_id"), need_secret=False)
            return oauth_error("invalid_client", "Unauthorized" if known_id else "The OAuth client was not found.",
                               401)
        ttl = _ttl(sb, "youtube", "access_ttl")
        if grant_type == "authorization_code":
            grant, reason = _take_code(sb, "youtube", form.get("code"), form.get("client_id"),
                                       form.get("redirect_uri"), form.get("code_verifier"))
            if grant is None:
                if reason == "redirect":
                    return oauth_error("redirect_uri_mismatch", "Bad Request")
                if reason == "pkce":
                    return oauth_error("invalid_grant", "Invalid code verifier.")
                return oauth_error("invalid_grant", "Bad Request")
            body = {"access_token": _mint(sb, "youtube", grant["account_id"], ttl, grant["scopes"]),
                    "expires_in": int(ttl), "scope": " ".join(grant["scopes"]), "token_type": "Bearer"}
            if grant["offline"]:
                body["refresh_token"] = _mint(sb, "youtube", grant["account_id"], 3650 * DAY, grant["scopes"],
                                              kind="refresh")
            return _json(body)
        if grant_type == "refresh_token":
            try:
                refresh = sb.check_token("youtube", form.get("refresh_token"), kind="refresh")
            except TokenProblem:
                return oauth_error("invalid_grant", "Token has been expired or revoked.")
            _count_refresh(sb, "youtube", refresh.account_id)
            return _json({"access_token": _mint(sb, "youtube", refresh.account_id, ttl, refresh.scopes),
                          "expires_in": int(ttl), "scope": " ".join(refresh.scopes), "token_type": "Bearer"})
        return oauth_error("unsupported_grant_type", "Invalid grant_type")

    @app.post("/google-oauth2/revoke")
    def google_revoke() -> Response:
        fault = _fault(sb, "youtube", "revoke", {"error": "internal_failure"})
        if fault is not None:
            return fault
        leaked = _token_in_url(sb, "youtube", lambda why: oauth_error("invalid_request", why))
        if leaked is not None:
            return leaked
        # https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke
        value = request.form.get("token")
        with sb.lock:
            token = sb.tokens.get(value or "")
        if token is None or token.platform != "youtube" or token.revoked:
            return oauth_error("invalid_token", "Token expired or revoked")
        sb.revoke_account_tokens("youtube", token.account_id)
        _state(sb)["revoked_calls"].append(("youtube", token.account_id))
        return _json({})

    @app.get("/googleapis/youtube/v3/channels")
    def youtube_channels() -> Response:
        fault = _fault(sb, "youtube", "profile", {"error": {"code": 503, "message": "Backend Error",
                                                            "errors": [{"reason": "backendError"}]}})
        if fault is not None:
            return fault
        try:
            token = sb.check_token("youtube", bearer_token())
        except TokenProblem:
            return _json({"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                                    "errors": [{"reason": "authError", "domain": "global"}],
                                    "status": "UNAUTHENTICATED"}}, 401)
        account = sb.account("youtube", token.account_id) or {}
        items = []
        if request.args.get("mine") == "true" and account.get("has_channel", True):
            items.append({
                "kind": "youtube#channel", "id": token.account_id,
                "snippet": {"title": account.get("title"), "customUrl": account.get("custom_url"),
                            "thumbnails": {"default": {"url": f"https://yt3.ggpht.example/{token.account_id}"}}},
                "statistics": {"subscriberCount": str(account.get("subscriber_count", 0)),
                               "hiddenSubscriberCount": False, "videoCount": "0", "viewCount": "0"},
            })
        return _json({"kind": "youtube#channelListResponse",
                      "pageInfo": {"totalResults": len(items), "resultsPerPage": 5}, "items": items})


# -------------------------------------------------------------------------- Blotato


def _blotato_fallback(app: Flask, sb: Sandbox) -> None:
    """`/v2/users/me` and accounts, unless the Blotato publishing simulator already serves them."""
    existing = {rule.rule for rule in app.url_map.iter_rules()}

    def account_for_key() -> Any:
        try:
            token = sb.check_token("blotato", request.headers.get("blotato-api-key"))
        except TokenProblem:
            return _json({"statusCode": 401, "message": "Unauthorized"}, 401)
        return sb.account("blotato", token.account_id) or {"id": token.account_id}

    if "/blotato/v2/users/me" not in existing:
        @app.get("/blotato/v2/users/me")
        def blotato_me_fallback() -> Response:
            account = account_for_key()
            if isinstance(account, Response):
                return account
            return _json({"id": account["id"], "subscriptionStatus": account.get("subscription_status", "active")})

    if "/blotato/v2/users/me/accounts" not in existing:
        @app.get("/blotato/v2/users/me/accounts")
        def blotato_accounts_fallback() -> Response:
            account = account_for_key()
            if isinstance(account, Response):
                return account
            items = [{"platform": "tiktok", **a} for a in account.get("tiktok_accounts") or []]
            wanted = request.args.get("platform")
            return _json({"items": [i for i in items if not wanted or i["platform"] == wanted]})


def register(app: Flask, sb: Sandbox) -> None:
    _tiktok(app, sb)
    _instagram(app, sb)
    _facebook(app, sb)
    _google(app, sb)
    _blotato_fallback(app, sb)
