"""The e2e suite drives a real `deskos up` over HTTP, as a user would.

One local cloud runs for the whole session (started with the `deskos` command on free ports, in a
temporary state dir). Users log in against its Cognito (moto) with boto3; the operator commands
(`deskos token`, `deskos tenant create`, `deskos user create`) run as subprocesses. A failing test
gets the tail of the cloud's log attached to its report.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")  # requests must never send loopback calls to a proxy

START_TIMEOUT = 45.0
STOP_TIMEOUT = 20.0
CLI_TIMEOUT = 30.0
LOG_TAIL_LINES = 80

MANAGER = "manager@demo.deskos.local"
AGENT = "agent@demo.deskos.local"
TECHNICIAN = "technician@demo.deskos.local"
PORTAL = "portal@acme.example"

OTHER_TENANT = "globex"
OTHER_PASSWORD = "Globex-pass-2!"
OTHER_MANAGER = "manager@globex.example"
OTHER_STAFF = "agent@globex.example"


def deskos_command() -> list[str]:
    """The installed `deskos` script next to this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("deskos")
    if script.exists():
        return [str(script)]
    found = shutil.which("deskos")
    return [found] if found else [sys.executable, "-m", "infra.local.cli"]


# ---- the local cloud process ------------------------------------------------------------------


@dataclass
class LocalCloud:
    """One `deskos up` process and what its local.json says."""

    state_dir: Path
    process: subprocess.Popen
    log_path: Path
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls, state_dir: Path, *, fresh: bool, timeout: float = START_TIMEOUT) -> LocalCloud:
        state_dir.mkdir(parents=True, exist_ok=True)
        details_file = state_dir / "local.json"
        before = _identity(details_file)  # a restart finds the previous run's file: wait for a new one
        log_path = state_dir / f"up-{time.monotonic_ns()}.log"
        command = [*deskos_command(), "up", "--state-dir", str(state_dir), "--api-port", "0", "--aws-port", "0"]
        if fresh:
            command.append("--fresh")
        with log_path.open("w") as log:  # a file, not a pipe: a chatty child never blocks on it
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=state_dir)
        cloud = cls(state_dir, process, log_path)
        try:
            cloud.details = cloud._wait_for_details(details_file, before, timeout)
            cloud._wait_for_api(timeout)
        except BaseException:
            cloud.kill()
            raise
        return cloud

    @property
    def api_url(self) -> str:
        return self.details["api_url"]

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def stop(self) -> int:
        """SIGTERM, as Ctrl+C would; SIGKILL only if it does not stop in time (and then fail)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                pytest.fail(f"deskos up ignored SIGTERM for {STOP_TIMEOUT}s:\n{self.log_tail()}")
        return self.process.returncode

    def stop_cleanly(self) -> None:
        code = self.stop()
        assert code == 0, f"deskos up exited with {code}:\n{self.log_tail()}"

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)

    def _wait_for_details(self, path: Path, before: tuple[int, int] | None, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while _identity(path) in (None, before):
            self._fail_if_gone_or_late(deadline, f"{path} did not appear")
            time.sleep(0.1)
        return json.loads(path.read_text())

    def _wait_for_api(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(f"{self.api_url}/openapi.json", timeout=5).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            self._fail_if_gone_or_late(deadline, "/openapi.json did not answer")
            time.sleep(0.1)

    def _fail_if_gone_or_late(self, deadline: float, what: str) -> None:
        if self.process.poll() is not None:
            pytest.fail(f"deskos up exited with {self.process.returncode} ({what}):\n{self.log_tail()}")
        if time.monotonic() > deadline:
            pytest.fail(f"deskos up did not start in time ({what}):\n{self.log_tail()}")


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns


class CloudStarter:
    """Starts extra clouds inside a test; whatever is still running afterwards is stopped."""

    def __init__(self) -> None:
        self.started: list[LocalCloud] = []

    def __call__(self, state_dir: Path, *, fresh: bool) -> LocalCloud:
        cloud = LocalCloud.start(state_dir, fresh=fresh)
        self.started.append(cloud)
        return cloud


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    running = LocalCloud.start(tmp_path_factory.mktemp("deskos-e2e"), fresh=True)
    try:
        yield running
    finally:
        running.stop_cleanly()


@pytest.fixture
def start_cloud() -> Iterator[CloudStarter]:
    starter = CloudStarter()
    yield starter
    for started in starter.started:
        started.stop()  # the test asserts the exit codes it cares about


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "teardown" or not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    clouds = [v for v in funcargs.values() if isinstance(v, LocalCloud)]
    starter = funcargs.get("start_cloud")
    if isinstance(starter, CloudStarter):
        clouds.extend(starter.started)
    for running in clouds:
        report.sections.append((f"deskos up log ({running.log_path.name})", running.log_tail()))


# ---- the operator commands --------------------------------------------------------------------


def run_deskos(state_dir: Path, *args: str) -> str:
    """Run a `deskos` operator command against a running cloud; its stdout."""
    result = subprocess.run(
        [*deskos_command(), *args, "--state-dir", str(state_dir)],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        cwd=state_dir,
    )
    assert result.returncode == 0, f"deskos {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="session")
def deskos(cloud: LocalCloud) -> Callable[..., str]:
    """`deskos(*args)`: an operator command against the session's cloud."""
    return lambda *args: run_deskos(cloud.state_dir, *args)


# ---- logging in -------------------------------------------------------------------------------


def log_in(details: dict[str, Any], username: str, password: str | None = None) -> str:
    """An id token, by the same USER_PASSWORD_AUTH call a front end makes (demo users: local.json's password)."""
    if password is None:
        password = next(u["password"] for u in details["users"] if u["username"] == username)
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=details["aws_endpoint_url"],
        region_name=details["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    result = cognito.initiate_auth(
        ClientId=details["user_pool_client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return result["AuthenticationResult"]["IdToken"]


@pytest.fixture(scope="session")
def token(cloud: LocalCloud) -> Callable[..., str]:
    """`token(username, password=None)`: the user's id token (one login per user; demo users need no password)."""

    @cache
    def issue(username: str, password: str | None = None) -> str:
        return log_in(cloud.details, username, password)

    return issue


class DemoUsers:
    """The demo tenant's users, as tokens: ``demo.portal`` and so on. The manager's comes from
    `deskos token`, the way the banner tells a developer to get one; the others from a login."""

    def __init__(self, token: Callable[..., str], deskos: Callable[..., str]) -> None:
        self._token = token
        self._deskos = deskos

    @cached_property
    def manager(self) -> str:
        return self._deskos("token", MANAGER).strip()

    @property
    def agent(self) -> str:
        return self._token(AGENT)

    @property
    def technician(self) -> str:
        return self._token(TECHNICIAN)

    @property
    def portal(self) -> str:
        return self._token(PORTAL)


@pytest.fixture(scope="session")
def demo(token: Callable[..., str], deskos: Callable[..., str]) -> DemoUsers:
    return DemoUsers(token, deskos)


# ---- talking to the API -----------------------------------------------------------------------


class Api:
    """The local API over real HTTP; ``as_`` is the caller's id token (None: anonymous)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def request(
        self, method: str, path: str, *, as_: str | None = None, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        sent = dict(headers or {})
        if as_ is not None:
            sent["Authorization"] = f"Bearer {as_}"
        return self.session.request(method, f"{self.base_url}{path}", headers=sent, timeout=15, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def create_ticket(self, as_: str, **fields: Any) -> dict[str, Any]:
        response = self.post("/support/tickets", as_=as_, json={"subject": "Printer on fire", **fields})
        assert response.status_code == 201, response.text
        return response.json()

    def user_id(self, as_: str) -> str:
        response = self.get("/me", as_=as_)
        assert response.status_code == 200, response.text
        return response.json()["user_id"]

    def ticket_ids(self, as_: str, **filters: Any) -> list[str]:
        response = self.get("/support/tickets", as_=as_, params={"limit": 100, **filters})
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["items"]]


@pytest.fixture(scope="session")
def api(cloud: LocalCloud) -> Iterator[Api]:
    client = Api(cloud.api_url)
    yield client
    client.session.close()


@pytest.fixture
def api_for() -> Iterator[Callable[[LocalCloud], Api]]:
    """`api_for(cloud)`: the API of a cloud a test started itself."""
    clients: dict[str, Api] = {}
    yield lambda running: clients.setdefault(running.api_url, Api(running.api_url))
    for client in clients.values():
        client.session.close()


@pytest.fixture(scope="session")
def login() -> Callable[..., str]:
    """`login(details, username, password=None)`: an id token from a cloud a test started itself."""
    return log_in


# ---- a second tenant --------------------------------------------------------------------------


@dataclass(frozen=True)
class OtherTenant:
    tenant_id: str
    manager_token: str
    staff_token: str


@pytest.fixture(scope="session")
def other_tenant(deskos: Callable[..., str], token: Callable[..., str]) -> OtherTenant:
    """Globex: a tenant of its own, made with the operator commands, with a manager and an agent."""
    deskos(
        "tenant",
        "create",
        OTHER_TENANT,
        "--name",
        "Globex Corp",
        "--manager-email",
        OTHER_MANAGER,
        "--manager-password",
        OTHER_PASSWORD,
    )
    deskos(
        "user",
        "create",
        "--tenant",
        OTHER_TENANT,
        "--role",
        "staff",
        "--email",
        OTHER_STAFF,
        "--password",
        OTHER_PASSWORD,
    )
    return OtherTenant(OTHER_TENANT, token(OTHER_MANAGER, OTHER_PASSWORD), token(OTHER_STAFF, OTHER_PASSWORD))


RUNS_LAST = "test_tenant_prefixes.py"  # it audits what every other e2e test wrote


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: Path(item.path) == here / RUNS_LAST)  # stable: the rest keep their order
