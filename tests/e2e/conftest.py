"""The e2e suite drives a real `deskos up` over HTTP, as a user would.

One local cloud runs for the whole session, one per xdist worker (started with the `deskos` command on free
ports, in a temporary state dir, in the environment pytest was started with: the defaults `make up` gives a
user, test signatures included on a machine whose ClamAV has none); each e2e module is a group of its own
(tests/conftest.py), so the modules spread over the workers, and each cloud is audited for tenant prefixes
when it stops. Users log in against its Cognito (moto) with boto3; the operator commands (`deskos token`,
`deskos tenant create`, `deskos user create`) run as subprocesses. A failing test gets the tail of the
cloud's log attached to its report.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.local.running import LocalCloud, deskos_command, local_cloud, log_in
from tests.e2e import dead_letter_audit, prefix_audit
from tests.e2e.browser import browser  # noqa: F401 (the browser tests' Chromium, one per test module)
from tests.group_times import SERVICE_PIDS
from tests.user_environment import USER_ENVIRONMENT

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")  # requests must never send loopback calls to a proxy

CLI_TIMEOUT = 30.0

MANAGER = "manager@demo.deskos.local"
AGENT = "agent@demo.deskos.local"
TECHNICIAN = "technician@demo.deskos.local"
PORTAL = "portal@acme.example"

OTHER_TENANT = "globex"
OTHER_PASSWORD = "Globex-pass-2!"
OTHER_MANAGER = "manager@globex.example"
OTHER_STAFF = "agent@globex.example"


# ---- the local cloud process (infra/local/running.py) ------------------------------------------


class CloudStarter:
    """Starts extra clouds inside a test; whatever is still running afterwards is stopped."""

    def __init__(self) -> None:
        self.started: list[LocalCloud] = []

    def __call__(self, state_dir: Path, *, fresh: bool, **options: Any) -> LocalCloud:
        cloud = LocalCloud.start(state_dir, fresh=fresh, **{"env": USER_ENVIRONMENT, **options})
        self.started.append(cloud)
        return cloud


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """The session's cloud (one per xdist worker, started by the worker's first e2e test), audited when it stops:
    everything every e2e test that ran on it wrote sits under its tenant's prefix (prefix_audit.py), and no
    consumer gave up on a record (dead_letter_audit.py)."""
    # what a user's `make up` gets: none of the settings tests/conftest.py gives the in-process tests
    with local_cloud(tmp_path_factory.mktemp("deskos-e2e"), env=USER_ENVIRONMENT) as running:
        SESSION_CLOUDS.append(running)
        SERVICE_PIDS.append(running.process.pid)  # (its CPU time counts as its tests', in --group-times)
        try:
            yield running
        finally:
            SESSION_CLOUDS.remove(running)
            SERVICE_PIDS.remove(running.process.pid)
            os.killpg(running.process.pid, signal.SIGCONT)
        prefix_audit.audit(running)
        dead_letter_audit.audit(running)


SESSION_CLOUDS: list[LocalCloud] = []  # the session's cloud, once started
HERE = Path(__file__).parent


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """A worker runs other modules' tests between its e2e modules: meanwhile its cloud is stopped (SIGSTOP),
    since an idle cloud polls its streams and queues (a sixth of a core) for nobody. (Called for every
    test of the session, not only e2e ones.)"""
    if HERE in Path(item.path).parents:
        for running in SESSION_CLOUDS:
            os.killpg(running.process.pid, signal.SIGCONT)
    yield
    if nextitem is not None and HERE not in Path(nextitem.path).parents:
        for running in SESSION_CLOUDS:
            os.killpg(running.process.pid, signal.SIGSTOP)


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
        env=USER_ENVIRONMENT,
    )
    assert result.returncode == 0, f"deskos {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="session")
def deskos(cloud: LocalCloud) -> Callable[..., str]:
    """`deskos(*args)`: an operator command against the session's cloud."""
    return lambda *args: run_deskos(cloud.state_dir, *args)


# ---- logging in -------------------------------------------------------------------------------


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


# ---- shared scenes ----------------------------------------------------------------------------


@pytest.fixture
def nps_survey(api: Api, demo: DemoUsers) -> Iterator[dict]:
    """An active NPS survey of the demo tenant without cooldown; deactivated afterwards, so other tests'
    resolved tickets stop sending invitations."""
    created = api.post(
        "/support/surveys",
        as_=demo.manager,
        json={"name": "After resolve", "kind": "nps", "question": "Would you recommend us?", "cooldown_days": 0},
    )
    assert created.status_code == 201, created.text
    survey = created.json()
    yield survey
    current = api.get(f"/support/surveys/{survey['id']}", as_=demo.manager).json()
    api.patch(
        f"/support/surveys/{survey['id']}", as_=demo.manager, json={"version": current["version"], "active": False}
    )
