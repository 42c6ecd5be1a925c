"""The web app (``web/``), described once for both places that serve it: the local API at ``/app/`` and
CloudFront in the cloud. Both send the same security headers and the same Content-Security-Policy, and both
give the app a ``config.json`` saying where the API and the user pool are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
DIST_DIR = WEB_DIR / "dist"  # what web/build.mjs writes (scripts/bootstrap.sh runs it)
APP_PREFIX = "/app"
INDEX = "index.html"
CONFIG = "config.json"
ENTRY = "assets/main.js"  # the one bundle without a content hash in its name (index.html names it)


def immutable(name: str) -> bool:
    """Chunks are named by their content's hash: cached for a year. The rest is revalidated on every load."""
    return name.startswith("assets/") and name != ENTRY


def content_security_policy(*, cognito_origin: str, uploads_origin: str) -> str:
    """Scripts and styles only from the app itself (no inline code, no CDN); the browser talks to the API (same
    origin), the user pool, and the uploads bucket (presigned POSTs, thumbnails)."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob: {uploads_origin}",
            f"connect-src 'self' {' '.join(dict.fromkeys((cognito_origin, uploads_origin)))}",  # locally both moto
            "font-src 'self'",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ]
    )


# Links carry their token in the address: no Referer may take it to another site.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def app_config(
    *, api_url: str, region: str, user_pool_id: str, client_id: str, cognito_endpoint: str
) -> dict[str, Any]:
    """``/app/config.json``. ``api_url`` "" means the API is on the app's own origin."""
    return {
        "apiUrl": api_url,
        "region": region,
        "userPoolId": user_pool_id,
        "userPoolClientId": client_id,
        "cognitoEndpoint": cognito_endpoint,
    }


def cognito_endpoint(region: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/"
