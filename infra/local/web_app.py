"""The web app at ``/app/`` on the local API, as CloudFront serves it in the cloud: the built files of
``web/dist``, ``index.html`` for every page address (the app routes in the browser), a generated
``config.json``, and the security headers and Content-Security-Policy of ``infra/web.py``."""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from infra.web import APP_PREFIX, CONFIG, DIST_DIR, INDEX, SECURITY_HEADERS, content_security_policy, immutable

NOT_BUILT = (
    "<!doctype html><title>DeskOS</title><p>The web app is not built: run <code>scripts/bootstrap.sh</code> "
    "(it runs <code>npm ci</code> and <code>node web/build.mjs</code>).</p>"
)
TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".json": "application/json"}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class WebApp:
    config: dict
    aws_origin: str  # the local Cognito and the uploads bucket: both are moto
    root: Path = DIST_DIR

    @staticmethod
    def serves(path: str) -> bool:
        path = urlsplit(path).path
        return path == APP_PREFIX or path.startswith(f"{APP_PREFIX}/")

    def answer(self, raw_path: str) -> Answer:
        path = unquote(urlsplit(raw_path).path)
        if path == APP_PREFIX:
            return Answer(301, {"Location": f"{APP_PREFIX}/"}, b"")
        name = path[len(APP_PREFIX) + 1 :]
        if name == CONFIG:
            return self._file(json.dumps(self.config).encode(), ".json", cache="no-cache")
        if not (self.root / INDEX).is_file():
            return self._file(NOT_BUILT.encode(), ".html", status=503, cache="no-store")
        found = (self.root / name).resolve()
        if name and found.is_file() and found.is_relative_to(self.root.resolve()):
            cache = "public, max-age=31536000, immutable" if immutable(name) else "no-cache"
            return self._file(found.read_bytes(), found.suffix, cache=cache)
        if "." in name.rsplit("/", 1)[-1]:  # a file that is not there; a page address has no extension
            return self._file(b"Not found", ".txt", status=404, cache="no-store")
        return self._file((self.root / INDEX).read_bytes(), ".html", cache="no-cache")

    def _file(self, body: bytes, suffix: str, *, status: int = 200, cache: str) -> Answer:
        kind = TYPES.get(suffix) or mimetypes.guess_type(f"x{suffix}")[0] or "application/octet-stream"
        if kind.startswith("text/") or kind == "application/json":
            kind += "; charset=utf-8"
        headers = {
            "Content-Type": kind,
            "Cache-Control": cache,
            "Content-Security-Policy": content_security_policy(
                cognito_origin=self.aws_origin, uploads_origin=self.aws_origin
            ),
            **SECURITY_HEADERS,
        }
        return Answer(status, headers, body)
