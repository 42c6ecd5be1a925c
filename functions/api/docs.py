"""The API contract and its browsable page, served without any CDN: /openapi.json, /docs."""

from __future__ import annotations

import json
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from functions.api.core import Api
from shared.errors import NotFound

api = Api("documentation")

ASSETS = {"swagger-ui-bundle.js": "application/javascript", "swagger-ui.css": "text/css"}
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DeskOS API</title>
<link rel="stylesheet" href="docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", persistAuthorization: true});</script>
</body></html>"""


@api.get("/openapi.json", roles=None, summary="API documentation")
def openapi_document():
    from functions.api import catalog  # imports every API module: only this route pays for it

    return Response(200, "application/json", json.dumps(catalog.openapi()))


def text(*media_types: str) -> dict:
    """The documented answer of a route that serves text, not JSON."""
    return {200: {"description": "OK", "content": {m: {"schema": {"type": "string"}} for m in media_types}}}


@api.get("/docs", roles=None, summary="API documentation", responses=text("text/html"))
def swagger_page():
    return Response(200, "text/html; charset=utf-8", PAGE)


@api.get("/docs/assets/<name>", roles=None, summary="API documentation", responses=text(*sorted(set(ASSETS.values()))))
def swagger_asset(name: Annotated[str, Path(max_length=40)]):
    if name not in ASSETS:
        raise NotFound("No such asset.")
    return Response(200, ASSETS[name], _asset(name), headers={"Cache-Control": "public, max-age=86400"})


def _asset(name: str) -> str:
    from swagger_ui_bundle import swagger_ui_path  # package swagger-ui-bundle-v2: Swagger UI 5.x

    return (swagger_ui_path / name).read_text(encoding="utf-8")


handler = api.handler
