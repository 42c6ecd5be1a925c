"""A `deskos up` in a child process, as a user starts it: on free ports, in a state dir, with its
``local.json`` read back once the API answers. The e2e suite and the load bench start their clouds
with it; ``log_in`` gets a user's id token from such a cloud's Cognito, as a front end would.

    with local_cloud(Path("/tmp/x")) as cloud:
        token = log_in(cloud.details, "agent@demo.deskos.local")
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

START_TIMEOUT = 45.0
STOP_TIMEOUT = 20.0
LOG_TAIL_LINES = 80

# loopback only, never through a proxy the environment may name
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class LocalCloudError(RuntimeError):
    """The local cloud did not start, or did not stop when asked; the message ends with its log."""


def deskos_command() -> list[str]:
    """The installed `deskos` script next to this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("deskos")
    if script.exists():
        return [str(script)]
    found = shutil.which("deskos")
    return [found] if found else [sys.executable, "-m", "infra.local.cli"]


@dataclass
class LocalCloud:
    """One `deskos up` process and what its local.json says."""

    state_dir: Path
    process: subprocess.Popen
    log_path: Path
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(
        cls,
        state_dir: Path,
        *,
        fresh: bool,
        timeout: float = START_TIMEOUT,
        env: Mapping[str, str] | None = None,
        command: list[str] | None = None,
    ) -> LocalCloud:
        """``deskos up`` on free ports in ``state_dir`` (or ``command``, which must start one there), with
        ``env`` (default: this process's). It runs in a process group of its own, which ``stop`` signals."""
        state_dir.mkdir(parents=True, exist_ok=True)
        details_file = state_dir / "local.json"
        before = _identity(details_file)  # a restart finds the previous run's file: wait for a new one
        log_path = state_dir / f"up-{time.monotonic_ns()}.log"
        if command is None:
            command = [*deskos_command(), "up", *up_arguments(state_dir, fresh=fresh)]
        with log_path.open("w") as log:  # a file, not a pipe: a chatty child never blocks on it
            process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=state_dir,
                env=None if env is None else dict(env),
                start_new_session=True,
            )
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
        """SIGTERM, as Ctrl+C would; SIGKILL only if it does not stop in time (and then raise)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                raise LocalCloudError(f"deskos up ignored SIGTERM for {STOP_TIMEOUT}s:\n{self.log_tail()}") from None
        return self.process.returncode

    def stop_cleanly(self) -> None:
        code = self.stop()
        if code != 0:
            raise LocalCloudError(f"deskos up exited with {code}:\n{self.log_tail()}")

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
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
                with _LOOPBACK.open(f"{self.api_url}/openapi.json", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                pass
            self._fail_if_gone_or_late(deadline, "/openapi.json did not answer")
            time.sleep(0.1)

    def _fail_if_gone_or_late(self, deadline: float, what: str) -> None:
        if self.process.poll() is not None:
            raise LocalCloudError(f"deskos up exited with {self.process.returncode} ({what}):\n{self.log_tail()}")
        if time.monotonic() > deadline:
            raise LocalCloudError(f"deskos up did not start in time ({what}):\n{self.log_tail()}")


def up_arguments(state_dir: Path, *, fresh: bool) -> list[str]:
    """`deskos up`'s arguments for a cloud in ``state_dir`` on free ports."""
    ports = ["--api-port", "0", "--aws-port", "0", "--smtp-port", "0"]
    return ["--state-dir", str(state_dir), *ports, *(("--fresh",) if fresh else ())]


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns


@contextmanager
def local_cloud(state_dir: Path, *, fresh: bool = True, env: Mapping[str, str] | None = None) -> Iterator[LocalCloud]:
    """A running local cloud for the block; stopped (and its exit checked) afterwards."""
    running = LocalCloud.start(state_dir, fresh=fresh, env=env)
    try:
        yield running
    except BaseException:
        running.stop()
        raise
    running.stop_cleanly()


def log_in(
    details: dict[str, Any], username: str, password: str | None = None, *, new_password: str | None = None
) -> str:
    """An id token, by the same USER_PASSWORD_AUTH call a front end makes (demo users: local.json's password).
    An invited user's first sign-in with its temporary password answers Cognito's new-password challenge with
    ``new_password``, as the front end's "choose your password" page does."""
    if password is None:
        password = next(u["password"] for u in details["users"] if u["username"] == username)
    pool = cognito(details)
    client_id = details["user_pool_client_id"]
    result = pool.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    if result.get("ChallengeName") == "NEW_PASSWORD_REQUIRED" and new_password is not None:
        result = pool.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=result["Session"],
            ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password},
        )
    return result["AuthenticationResult"]["IdToken"]


def cognito(details: dict[str, Any]) -> Any:
    """A client of the local cloud's Cognito, as local.json describes it."""
    import boto3

    return boto3.client(
        "cognito-idp",
        endpoint_url=details["aws_endpoint_url"],
        region_name=details["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
