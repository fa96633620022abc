"""deploy/gunicorn.conf.py's access log: one JSON object per request, through gunicorn's own
`Logger.access`, whatever the path, headers or client send."""

import datetime
import json
import runpy
from pathlib import Path

from gunicorn.config import Config

CONF = runpy.run_path(str(Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"))


class Response:
    status = "201 CREATED"
    sent = 412
    headers = [("Content-Type", "application/json"), ("X-Request-Id", "req-1")]


class Request:
    headers = [("HOST", "campaign.example.cn"), ("X-FORWARDED-FOR", "10.1.2.3")]


def environ(**extra) -> dict:
    return {
        "REQUEST_METHOD": "PUT",
        "RAW_URI": "/api/v1/me/unit?openid=o-secret",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/api/v1/me/unit",
        "QUERY_STRING": "openid=o-secret",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": object(),  # gunicorn hands such objects over too: never read
        **extra,
    }


def access_line(tmp_path, environ: dict, request=Request, response=Response) -> dict:
    path = tmp_path / "access.log"
    config = Config()
    config.set("accesslog", str(path))
    config.set("access_log_format", CONF["access_log_format"])
    logger = CONF["JsonAccessLogger"](config)
    logger.access(response, request, environ, datetime.timedelta(seconds=1, microseconds=2500))
    for handler in logger.access_log.handlers:
        handler.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def test_a_request_is_one_json_object_with_the_app_log_keys(tmp_path):
    line = access_line(tmp_path, environ())
    assert line["logger"] == "gunicorn.access" and line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"]) == ("PUT", "/api/v1/me/unit", 201)
    assert line["request_id"] == "req-1"
    assert line["client"] == "10.1.2.3"
    assert line["duration_ms"] == 1002 and line["bytes"] == "412"
    assert line["ts"].endswith("Z") and line["ts"][10] == "T"
    assert "o-secret" not in json.dumps(line)  # the query string is left out


def test_chinese_paths_quotes_and_backslashes_stay_valid_json(tmp_path):
    path = "/p/公示/案例".encode().decode("latin-1")  # as WSGI hands a UTF-8 path over
    agent = 'Mozilla/5.0 "MicroMessenger" \\ MiniProgramEnv/Windows'
    line = access_line(tmp_path, environ(PATH_INFO=path, HTTP_USER_AGENT=agent))
    assert line["path"] == "/p/公示/案例"
    assert line["user_agent"] == agent


def test_a_header_the_request_lacks_is_a_dash(tmp_path):
    class Bare:
        headers = []

    class Unnamed(Response):
        headers = [("Content-Type", "text/plain")]

    line = access_line(tmp_path, environ(), request=Bare, response=Unnamed)
    assert (line["client"], line["request_id"], line["referer"]) == ("-", "-", "-")
