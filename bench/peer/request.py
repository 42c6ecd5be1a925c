"""Run by the peer's own interpreter in a fresh process: answer one request through Django's WSGI handler (what a
WSGI server's worker does on its first request), then print the monotonic clock and the process CPU time at the
response, its status, and the wall milliseconds of a second, warm request.

    <peer venv>/bin/python bench/peer/request.py list|create SESSION QUEUE
"""

import json
import os
import sys
import time
from io import BytesIO

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk_site.settings")

from django.core.wsgi import get_wsgi_application

CSRF = "benchcsrfsecretbenchcsrfsecret00"  # 32 characters: Django's unmasked CSRF secret


def request(app, method: str, session: str, body: dict | None) -> str:
    data = json.dumps(body).encode() if body is not None else b""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/helpdesk/api/tickets/",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "HTTP_ACCEPT": "application/json",
        "HTTP_COOKIE": f"sessionid={session}; csrftoken={CSRF}",
        "HTTP_X_CSRFTOKEN": CSRF,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    status: list[str] = []
    body_bytes = b"".join(app(environ, lambda s, _headers, _exc=None: status.append(s)))
    if not status[0].startswith("2"):
        sys.stderr.write(body_bytes.decode(errors="replace")[:2000] + "\n")
    return status[0].split()[0]


def main() -> None:
    action, session, queue = sys.argv[1], sys.argv[2], int(sys.argv[3])
    method, body = ("GET", None) if action == "list" else ("POST", None)
    if action == "create":
        body = {"queue": queue, "title": "VPN down", "description": "It drops every hour.", "priority": 3}
    app = get_wsgi_application()
    status = request(app, method, session, body)
    print(time.clock_gettime(time.CLOCK_MONOTONIC), time.process_time() * 1000, status)
    start = time.perf_counter()
    status = request(app, method, session, body)
    print((time.perf_counter() - start) * 1000, status)


if __name__ == "__main__":
    main()
