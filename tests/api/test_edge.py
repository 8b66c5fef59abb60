"""What every function answers, whatever it is sent: the JSON error body, at once, never a hang."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from tests.api.conftest import error_of, raw_request
from tests.support.cloud_stack import CloudStack, StackClient


def _status_and_body(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


@pytest.mark.parametrize("path", ["/nowhere", "/publish-video/nowhere", "/publish-video/posts/%01%02",
                                  "/videos/%00", "/publish-video/favicon.ico"])
def test_unknown_paths_and_bad_ids_answer_the_json_404(client: StackClient, path) -> None:
    answer = client.api.get(path)
    assert answer.status_code == 404, answer.text
    assert error_of(answer)["code"] in ("not_found", "video_not_found")


def test_undeclared_methods_answer_405_with_allow(stack: CloudStack) -> None:
    _, answer = raw_request(stack.functions_url, b"TRACE /health HTTP/1.1\r\nHost: x\r\n\r\n")
    status, body = _status_and_body(answer)
    assert status == 405
    assert b"\r\nAllow: GET, OPTIONS\r\n" in answer
    assert set(body) == {"code", "message", "detail", "request_id"}


def test_delete_on_a_post_is_405(client: StackClient) -> None:
    answer = client.api.delete("/publish-video/posts/00000000-0000-0000-0000-000000000000")
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET, OPTIONS"


def test_bearer_is_case_insensitive(stack: CloudStack, client: StackClient) -> None:
    token = client.api.headers["Authorization"].split(" ", 1)[1]
    import httpx

    answer = httpx.get(stack.functions_url + "/videos", headers={"Authorization": f"bearer {token}"})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("path", ["/health", "/publish-video"])
def test_a_body_shorter_than_its_content_length_is_a_400_within_seconds(stack: CloudStack, path) -> None:
    method = b"GET" if path == "/health" else b"POST"
    head = (method + b" " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n")
    seconds, answer = raw_request(stack.functions_url, head, b'{"video_id": ')
    status, body = _status_and_body(answer)
    assert status == 400 and body["code"] == "incomplete_body"
    assert seconds < 8


def test_413_is_answered_before_the_body_is_sent(stack: CloudStack, client: StackClient) -> None:
    token = client.api.headers["Authorization"]
    head = (b"POST /videos HTTP/1.1\r\nHost: x\r\nContent-Type: video/mp4\r\nAuthorization: " + token.encode()
            + b"\r\nContent-Length: 1073741825\r\n\r\n")
    # Only 64 KB of the announced 1 GB + 1 byte are ever sent: the answer must not wait for the rest.
    seconds, answer = raw_request(stack.functions_url, head, b"\0" * 65536)
    status, body = _status_and_body(answer)
    assert status == 413 and seconds < 3
    assert body["message"].startswith("Videos can be up to 1 GB (1,073,741,824 bytes). This one is 1,073,741,825 "
                                      "bytes.")
    assert "POST /videos/register" in body["message"]


def test_an_address_too_long_for_the_server_is_the_json_414(stack: CloudStack) -> None:
    # The context of a raw upload rides the query; 4,000 characters percent-encoded pass 64 KB.
    query = "%F0%9F%98%80" * 6000
    _, answer = raw_request(stack.functions_url, f"POST /videos?prompt={query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    status, body = _status_and_body(answer)
    assert status == 414
    assert b"\r\nContent-Type: application/json\r\n" in answer
    assert set(body) == {"code", "message", "detail", "request_id"} and "POST /videos/register" in body["message"]


def test_cors_allows_the_dev_servers_and_answers_preflight_everywhere(stack: CloudStack) -> None:
    import httpx

    for path in ("/publish-video/targets/00000000-0000-0000-0000-000000000000", "/health", "/platforms",
                 "/videos/00000000-0000-0000-0000-000000000000/cover"):
        answer = httpx.options(stack.functions_url + path, headers={
            "Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert answer.status_code == 204, (path, answer.text)
        assert answer.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
        assert "Authorization" in answer.headers["Access-Control-Allow-Headers"]
    answer = httpx.get(stack.functions_url + "/health", headers={"Origin": "http://localhost:3000"})
    assert answer.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    answer = httpx.get(stack.functions_url + "/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_frontend_origins_setting_replaces_the_defaults(stack: CloudStack, make_app) -> None:
    import httpx

    from shared.config import CoreSettings, load

    stack.env.set("FRONTEND_ORIGINS", "https://app.example.com, https://staging.example.com")
    make_app.replace(settings=load(CoreSettings))
    try:
        allowed = httpx.get(stack.functions_url + "/health", headers={"Origin": "https://staging.example.com"})
        local = httpx.get(stack.functions_url + "/health", headers={"Origin": "http://localhost:5173"})
    finally:
        stack.env.unset("FRONTEND_ORIGINS")
        make_app.restore()
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://staging.example.com"
    assert "Access-Control-Allow-Origin" not in local.headers


# ---------------------------------------------------------------- messages in the user's terms


def test_a_non_video_upload_names_no_server_path(client: StackClient, stack: CloudStack) -> None:
    answer = client.api.post("/videos", content=b"this is not a video" * 100, headers={"Content-Type": "video/mp4"})
    assert answer.status_code == 422
    body = error_of(answer)
    assert body["code"] == "not_a_video"
    assert "/" not in json.dumps(body["detail"]) and str(stack.storage_dir) not in answer.text


def test_a_landscape_video_is_told_it_is_landscape(client: StackClient, media_dir) -> None:
    from shared.media.samples import make_video

    landscape = make_video(media_dir / "api-landscape.mp4", seconds=4, width=1280, height=720)
    verdicts = client.api.post("/videos", content=landscape.read_bytes(),
                               headers={"Content-Type": "video/mp4"}).json()["verdicts"]
    message = " ".join(p["message"] for p in verdicts["facebook"]["problems"])
    assert "This video is landscape (1280x720); Facebook Reels needs a vertical 9:16 video." in message
    assert "needs at least" not in message


def test_a_gif_cover_is_told_to_use_jpg_or_png(client: StackClient, video_id) -> None:
    image = io.BytesIO()
    Image.new("RGB", (90, 160), "red").save(image, format="GIF")
    answer = client.api.post(f"/videos/{video_id}/cover", content=image.getvalue(),
                             headers={"Content-Type": "image/gif"})
    assert answer.status_code == 415
    assert error_of(answer)["message"] == "Use a JPG or PNG image for the cover."


def test_a_client_that_disconnects_mid_upload_leaves_one_line_not_a_traceback(stack: CloudStack, client: StackClient,
                                                                              capfd, caplog) -> None:
    import socket
    import time
    from urllib.parse import urlparse

    url = urlparse(stack.functions_url)
    token = client.api.headers["Authorization"]
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(b"POST /videos HTTP/1.1\r\nHost: x\r\nContent-Type: video/mp4\r\nAuthorization: "
                     + token.encode() + b"\r\nContent-Length: 900000\r\n\r\n" + b"\0" * 10000)
    time.sleep(1.0)
    captured = capfd.readouterr()
    assert "Traceback" not in captured.out + captured.err + caplog.text
    with stack.db.service() as conn:
        rows = conn.execute("select count(*) as n from videos where user_id = (select id from auth.users "
                            "where id::text = %s)", (client_user_id(client),)).fetchone()
    assert rows["n"] == 0


def client_user_id(client: StackClient) -> str:
    import base64
    import json as json_module

    payload = client.api.headers["Authorization"].split(".")[1]
    return str(json_module.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])
