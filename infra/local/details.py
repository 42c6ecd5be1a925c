"""How to reach a running local cloud: ``<state-dir>/local.json``, and the process environment that
points the handlers (PynamoDB, boto3, Powertools) at it."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEFAULT_STATE_DIR = Path(".deskos")
DETAILS_FILE = "local.json"
DEFAULT_REGION = "eu-west-1"
DEFAULT_TABLE = "deskos"
DEFAULT_BUCKET = "deskos-uploads"


@dataclass(frozen=True)
class LocalDetails:
    api_url: str
    aws_endpoint_url: str
    region: str
    user_pool_id: str
    user_pool_client_id: str
    table_name: str
    bucket_name: str
    users: list[dict[str, str]] = field(default_factory=list)
    # the ClamAV signatures uploads are scanned with (infra.local.signatures): kind, directory, updated_at, warning
    signatures: dict[str, str | None] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # what `deskos doctor` found missing at start
    smtp_port: int | None = None  # inbound email (infra.local.smtp), on the API's host

    @property
    def smtp_url(self) -> str:
        host = self.api_url.split("//", 1)[-1].rsplit(":", 1)[0]
        return f"smtp://{host}:{self.smtp_port}"

    @property
    def docs_url(self) -> str:
        return f"{self.api_url}/docs"

    def save(self, state_dir: Path) -> Path:
        state_dir.mkdir(parents=True, exist_ok=True)
        path = state_dir / DETAILS_FILE
        partial = path.with_suffix(".partial")  # readers poll for the file: it appears complete
        extra = {"docs_url": self.docs_url, "smtp_url": self.smtp_url}
        partial.write_text(json.dumps({**asdict(self), **extra}, indent=2) + "\n")
        os.replace(partial, path)
        return path

    @classmethod
    def load(cls, state_dir: Path) -> LocalDetails:
        path = state_dir / DETAILS_FILE
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise SystemExit(f"No local cloud found ({path} is missing): start one with `deskos up`.") from None
        data.pop("docs_url", None)
        data.pop("smtp_url", None)
        return cls(**data)

    def password_of(self, username: str) -> str | None:
        return next((u["password"] for u in self.users if u["username"] == username), None)


LOCAL_SESSION_CHECK_SECONDS = 5


def point_environment_at(
    aws_endpoint_url: str, region: str, table_name: str, bucket_name: str, user_pool_id: str | None = None
) -> None:
    """Set, before any handler runs, what Lambda's configuration would: every AWS client of this
    process goes to the local cloud, with dummy credentials (no real account is ever used)."""
    os.environ.update(
        AWS_ENDPOINT_URL=aws_endpoint_url,
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        AWS_REGION=region,
        AWS_DEFAULT_REGION=region,
        AWS_EC2_METADATA_DISABLED="true",
        DESKOS_TABLE=table_name,
        DESKOS_BUCKET=bucket_name,
    )
    if user_pool_id is not None:
        os.environ["DESKOS_USER_POOL_ID"] = user_pool_id
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.setdefault("DESKOS_CURSOR_SECRET", "local-only-cursor-secret-not-for-any-deployment")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "DeskOS")
    # how soon a deactivated user's earlier tokens are refused (shared.sessions; the cloud's default is 60 s)
    os.environ.setdefault("DESKOS_SESSION_CHECK_SECONDS", str(LOCAL_SESSION_CHECK_SECONDS))
