"""/app/ on the local API (infra/local/web_app.py): built files, index.html for page addresses, a generated
config.json, nothing outside web/dist, and the CSP and security headers of infra/web.py on every answer."""

from __future__ import annotations

import json

import pytest

from infra.local.web_app import WebApp
from infra.web import SECURITY_HEADERS

AWS = "http://127.0.0.1:5999"


@pytest.fixture
def app(tmp_path) -> WebApp:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>index</title>")
    (tmp_path / "assets" / "main.js").write_text("console.log('main')")
    (tmp_path / "assets" / "chunk-ABC123.js").write_text("export const x = 1")
    (tmp_path.parent / "secret.txt").write_text("outside")
    return WebApp({"apiUrl": "", "userPoolId": "pool"}, aws_origin=AWS, root=tmp_path)


@pytest.mark.parametrize("path", ["/app/", "/app/portal/tickets", "/app/survey?token=abc.def", "/app/console/x/y"])
def test_a_page_address_is_the_apps_index(app, path):
    answer = app.answer(path)
    assert (answer.status, answer.body) == (200, b"<!doctype html><title>index</title>")
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.headers["Cache-Control"] == "no-cache"


def test_files_are_served_with_their_type_and_hashed_chunks_cached_for_a_year(app):
    entry, chunk = app.answer("/app/assets/main.js"), app.answer("/app/assets/chunk-ABC123.js")
    assert entry.body == b"console.log('main')" and entry.headers["Content-Type"].startswith("text/javascript")
    assert entry.headers["Cache-Control"] == "no-cache"
    assert chunk.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("path", ["/app/assets/missing.js", "/app/../secret.txt", "/app/%2e%2e/secret.txt"])
def test_a_missing_file_or_one_outside_the_app_is_not_found(app, path):
    answer = app.answer(path)
    assert answer.status == 404 and b"outside" not in answer.body


def test_config_json_says_where_the_api_and_pool_are(app):
    answer = app.answer("/app/config.json")
    assert json.loads(answer.body) == {"apiUrl": "", "userPoolId": "pool"}


def test_every_answer_has_the_strict_csp_and_security_headers(app):
    for path in ("/app/", "/app/config.json", "/app/assets/main.js", "/app/nothing.js"):
        headers = app.answer(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
        assert f"connect-src 'self' {AWS}" in csp
        assert SECURITY_HEADERS.items() <= headers.items()


def test_an_unbuilt_app_says_how_to_build_it(tmp_path):
    answer = WebApp({}, aws_origin=AWS, root=tmp_path / "nowhere").answer("/app/")
    assert answer.status == 503 and b"bootstrap.sh" in answer.body


def test_only_app_paths_are_the_web_apps():
    assert WebApp.serves("/app") and WebApp.serves("/app/x?y=1")
    assert not WebApp.serves("/apple") and not WebApp.serves("/support/tickets")
