"""The browsable API docs work offline: the Swagger UI page loads only what the local API serves."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlparse

MIN_BUNDLE_BYTES = 200_000  # swagger-ui-bundle.js is about 1.4 MB; an error page is a few hundred bytes


def test_the_swagger_ui_page_and_its_assets_load_without_any_external_url(api):
    # When a browser opens /docs
    page = api.get("/docs")

    # Then the page references nothing outside the local API
    assert page.status_code == 200, page.text
    assert page.headers["Content-Type"].startswith("text/html")
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page.text)
    assert references, page.text
    assert not re.search(r"(?:https?:)?//", page.text), "the page names an absolute URL"
    page_url = f"{api.base_url}/docs"
    resolved = {ref: urljoin(page_url, ref) for ref in references}
    assert {urlparse(u).netloc for u in resolved.values()} == {urlparse(api.base_url).netloc}

    # And every asset it references loads, the script bundle in full
    loaded = {ref: api.session.get(url, timeout=15) for ref, url in resolved.items()}
    assert {ref: r.status_code for ref, r in loaded.items()} == dict.fromkeys(loaded, 200)
    scripts = [r for ref, r in loaded.items() if ref.endswith(".js")]
    assert scripts, references
    assert all("javascript" in r.headers["Content-Type"] and len(r.content) > MIN_BUNDLE_BYTES for r in scripts)


def test_the_swagger_ui_page_reads_the_local_openapi_document(api):
    page = api.get("/docs").text

    # The document the page configures resolves to this API's /openapi.json, which lists the routes
    configured = re.search(r"""url:\s*["']([^"']+)["']""", page)
    assert configured, page
    document = api.session.get(urljoin(f"{api.base_url}/docs", configured.group(1)), timeout=15)
    assert document.status_code == 200
    assert "/support/tickets" in document.json()["paths"]
