"""Tokens, roles, annotations over HTTP, private reading, the rate limit and CORS."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from fink_like.api import create_app
from fink_like.api.security import RateLimiter
from fink_like.cli import main
from portal_data import write_archive


@pytest.fixture(scope="module")
def private(tmp_path_factory, portal_alerts):
    """An archive that needs a token to read, with a rate limit and one allowed CORS origin."""
    return write_archive(tmp_path_factory.mktemp("private"), portal_alerts, public_read=False,
                         rate_limit_per_minute=40, cors_origins=["https://portal.example.org"])


def tokens(settings, capsys) -> dict[str, str]:
    config = settings.archive.path + ".yaml"
    with open(config, "w") as handle:
        json.dump({"archive": {"path": settings.archive.path}}, handle)
    out = {}
    for name, role in [("ann", "annotator"), ("rea", "reader")]:
        assert main(["--config", config, "users", "add", name, "--role", role]) == 0
        out[name] = capsys.readouterr().out.strip()
    assert main(["--config", config, "users", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(u["name"], u["role"], u["tokens"]) for u in listed] == [("ann", "annotator", 1), ("rea", "reader", 1)]
    assert main(["--config", config, "users", "token", "nobody"]) == 1
    return out


def test_annotation_round_trip_and_refusals(portal_settings, portal_alerts, capsys):
    keys = tokens(portal_settings, capsys)
    oid = portal_alerts.column("object_id")[0].as_py()
    with TestClient(create_app(portal_settings)) as client:
        url = f"/objects/{oid}/labels"
        body = {"label": "SN Ia", "comment": "classified by spectrum"}
        assert client.post(url, json=body).status_code == 401
        assert client.post(url, json=body, headers={"Authorization": "Bearer fl_forged"}).status_code == 401
        refused = client.post(url, json=body, headers={"Authorization": f"Bearer {keys['rea']}"})
        assert refused.status_code == 403 and "annotator" in refused.json()["detail"]
        saved = client.post(url, json=body, headers={"Authorization": f"Bearer {keys['ann']}"})
        assert saved.status_code == 201 and saved.json()["user"] == "ann"
        trail = client.get(url).json()
        assert [(t["label"], t["comment"], t["user"]) for t in trail][-1] == ("SN Ia", "classified by spectrum", "ann")
        bad = client.post(url, json={"label": "<script>"}, headers={"Authorization": f"Bearer {keys['ann']}"})
        assert bad.status_code == 400 and "label" in bad.json()["detail"]
        missing = client.post("/objects/ZTF00nothere/labels", json=body,
                              headers={"Authorization": f"Bearer {keys['ann']}"})
        assert missing.status_code == 404
        page = client.get(f"/portal/objects/{oid}").text
        assert "classified by spectrum" in page


def test_private_reading_rate_limit_and_cors(private, capsys):
    keys = tokens(private, capsys)
    with TestClient(create_app(private)) as client:
        assert client.get("/latest").status_code == 401
        refused = client.get("/portal/")
        assert refused.status_code == 401 and "token-box" in refused.text and "needs a token" in refused.text
        auth = {"Authorization": f"Bearer {keys['rea']}"}
        assert client.get("/latest", headers=auth).status_code == 200
        assert client.get("/portal/", cookies={"fink_token": keys["rea"]}).status_code == 200
        preflight = client.options("/latest", headers={"Origin": "https://portal.example.org",
                                                       "Access-Control-Request-Method": "GET"})
        assert preflight.headers["access-control-allow-origin"] == "https://portal.example.org"
        other = client.get("/latest", headers=auth | {"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        statuses = [client.get("/latest", params={"limit": 1}, headers=auth).status_code for _ in range(40)]
        # three requests of this token came before: 37 more fit in the minute's 40
        assert statuses == [200] * 37 + [429] * 3
        limited = client.get("/latest", headers=auth)
        assert limited.status_code == 429 and 0 < int(limited.headers["retry-after"]) <= 60
        # another token has its own budget
        assert client.get("/latest", headers={"Authorization": f"Bearer {keys['ann']}"}).status_code == 200


def test_rate_limiter_windows():
    now = [0.0]
    limiter = RateLimiter(3, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.hit("a") == 60.0 and limiter.hit("b") == 0.0
    now[0] = 59.5
    assert limiter.hit("a") == pytest.approx(0.5)
    now[0] = 60.0
    assert limiter.hit("a") == 0.0
    assert RateLimiter(0).hit("a") == 0.0
