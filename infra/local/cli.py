"""``deskos``: run the embedded local cloud and operate on it.

deskos up [--fresh]                 moto + provisioning + demo seed + event pump + local API
deskos doctor                       what the local cloud needs, what is missing, and how to fix it
deskos tenant create ID --name ...  a tenant and its first manager
deskos user create --tenant ...     a user of a tenant
deskos token USERNAME               an id token for a user
deskos openapi                      the OpenAPI document
deskos schedule run NAME [--at T]   run a scheduled job now (or as of a later time T), as EventBridge does
deskos dlq replay [--consumer NAME] deliver dead letters (stream records, upload notifications) again
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3

from infra.local.details import (
    DEFAULT_BUCKET,
    DEFAULT_REGION,
    DEFAULT_STATE_DIR,
    DEFAULT_TABLE,
    LocalDetails,
    point_environment_at,
)
from shared.caller import Role
from shared.errors import DomainError

logger = logging.getLogger(__name__)  # not under "deskos", which the handlers' Powertools Logger owns

DEFAULT_API_PORT = 8000
DEFAULT_AWS_PORT = 5000
DEFAULT_SMTP_PORT = 2525


def up(args: argparse.Namespace) -> int:
    from infra.local import doctor, signatures
    from infra.local.moto_server import start_moto
    from infra.local.provision import provision
    from infra.local.pump import Pump
    from infra.local.seed import demo_logins, seed_demo

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)  # one "found credentials" line per client otherwise
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
    state_dir = Path(args.state_dir)
    region = os.environ.get("AWS_REGION") or DEFAULT_REGION
    table_name = os.environ.get("DESKOS_TABLE") or DEFAULT_TABLE
    bucket_name = os.environ.get("DESKOS_BUCKET") or DEFAULT_BUCKET
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    missing = [c for c in doctor.run(state_dir, args.host, _ports(args)) if not c.ok]
    for check in missing:
        logging.getLogger("deskos.doctor").warning("%s", check.warning())
    database = signatures.database_dir()
    scanned_with = signatures.choose(state_dir, database)
    moto = start_moto(args.host, args.aws_port, state_dir=state_dir, fresh=args.fresh)
    running: list[Any] = [moto]  # stopped in reverse order
    try:
        point_environment_at(moto.url, region, table_name, bucket_name)
        resources = provision(moto.url, region, table_name=table_name, bucket_name=bucket_name)
        os.environ["DESKOS_USER_POOL_ID"] = resources.user_pool_id
        seed_demo()
        moto.save()
        running.append(Pump(moto.url, region, table_name).start())

        from infra.local.api_server import start_api
        from infra.local.web_app import WebApp
        from infra.web import app_config

        def warnings() -> list[str]:
            return [c.warning() for c in missing]

        def official(found: signatures.Signatures) -> None:  # freshclam replaced the test signatures
            missing[:] = [c for c in missing if c.name != doctor.SIGNATURES]
            replace(details, signatures=found.as_json(), warnings=warnings()).save(state_dir)

        refresher = signatures.Refresher(scanned_with, database, on_official=official)
        web_config = app_config(
            api_url="",  # the app is served by the API itself: same origin
            region=region,
            user_pool_id=resources.user_pool_id,
            client_id=resources.user_pool_client_id,
            cognito_endpoint=moto.url,
        )
        api = start_api(
            host=args.host,
            port=args.api_port,
            endpoint_url=moto.url,
            region=region,
            user_pool_id=resources.user_pool_id,
            client_id=resources.user_pool_client_id,
            health=lambda: {"signatures": refresher.current.as_json(), "warnings": warnings()},
            web_app=WebApp(web_config, aws_origin=moto.url),
        )
        running.append(api)
        os.environ.setdefault("DESKOS_PUBLIC_URL", api.url.rstrip("/"))  # where emailed links point
        smtp = _smtp_listener(args.host, args.smtp_port, moto.url, region, bucket_name)
        running.append(smtp)
        details = LocalDetails(
            api_url=api.url.rstrip("/"),
            aws_endpoint_url=moto.url,
            region=region,
            user_pool_id=resources.user_pool_id,
            user_pool_client_id=resources.user_pool_client_id,
            table_name=table_name,
            bucket_name=bucket_name,
            users=demo_logins(),
            signatures=scanned_with.as_json(),
            warnings=warnings(),
            smtp_port=smtp.port,
        )
        details.save(state_dir)
        running.append(refresher.start())
        print(banner(details, state_dir), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        stop_in_reverse(running)
    print("DeskOS local cloud stopped; state saved.", flush=True)
    # The interpreter's teardown then collects cycles over the whole heap (~290k objects, 1300 modules) again
    # and again: 1.5 s of CPU measured alone, several times that under load, most of SIGTERM-to-exit. Nothing
    # in it matters now: freezing the heap leaves it to the OS, and exit takes 0.1 s.
    gc.freeze()
    return 0


def _smtp_listener(host: str, port: int, endpoint_url: str, region: str, bucket_name: str) -> Any:
    """Inbound email on loopback, handed to the same function SES's receipt rule invokes in the cloud."""
    from infra.local.pump import load_handler
    from infra.local.smtp import SmtpListener, deliver_to_function
    from infra.resources import INBOUND_MAIL

    s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
    deliver = deliver_to_function(s3, bucket_name, region, load_handler(INBOUND_MAIL.handler))
    return SmtpListener(host, port, deliver).start()


def stop_in_reverse(services: list[Any]) -> None:
    """Stop the services last-started first, each logging how long it took: a slow stop explains itself."""
    for service in reversed(services):
        started = time.monotonic()
        service.stop()
        logger.info("stopped %s in %.1f s", type(service).__name__, time.monotonic() - started)


def banner(details: LocalDetails, state_dir: Path) -> str:
    from infra.local.seed import DEMO_TENANT
    from shared.inbound.mailbox import support_address

    manager = details.users[0]["username"] if details.users else "USERNAME"
    users = "\n".join(
        f"  {u['username']:<32} {u['role']:<9} tenant {u['tenant_id']}  password {u['password']}" for u in details.users
    )
    scanned = details.signatures
    if scanned.get("kind") == "test":
        scanner = f"ClamAV with {scanned['warning']}"
    else:
        scanner = (
            f"ClamAV, {scanned.get('kind')} signatures in {scanned.get('directory')} ({scanned.get('updated_at')})"
        )
    listed = "".join(f"\n  ! {w}" for w in details.warnings)
    warned = f"\nWarnings (`deskos doctor` explains):{listed}\n" if details.warnings else ""
    return f"""DeskOS local cloud is up.
  Web app      {details.api_url}/app/   (sign in as a demo user below)
  API          {details.api_url}   (health: {details.api_url}/health)
  Swagger UI   {details.docs_url}
  AWS (moto)   {details.aws_endpoint_url}  region {details.region}
  SMTP (in)    {details.smtp_url}   (write to {support_address(DEMO_TENANT)})
  State        {state_dir}/ (connection details in {state_dir}/local.json)
  Upload scan  {scanner}
{warned}
Demo users:
{users}

Get a token:  deskos token {manager}
Try it:       curl -H "Authorization: Bearer $(deskos token {manager})" {details.api_url}/me

Press Ctrl+C to stop; data is kept for the next `deskos up` (use --fresh to start empty)."""


def _ports(args: argparse.Namespace) -> dict[str, int]:
    return {"API": args.api_port, "AWS": args.aws_port, "SMTP": args.smtp_port}


def doctor_command(args: argparse.Namespace) -> int:
    from infra.local import doctor

    checks = doctor.run(Path(args.state_dir), args.host, _ports(args))
    print("\n".join(c.line() for c in checks))
    missing = [c for c in checks if not c.ok]
    print(f"\n{len(missing)} missing: see the fix lines." if missing else "\nEverything the local cloud needs is here.")
    return 1 if missing else 0


def _connect(args: argparse.Namespace) -> LocalDetails:
    details = LocalDetails.load(Path(args.state_dir))
    point_environment_at(
        details.aws_endpoint_url, details.region, details.table_name, details.bucket_name, details.user_pool_id
    )
    os.environ.setdefault("DESKOS_PUBLIC_URL", details.api_url.rstrip("/"))  # emailed links (a campaign's) point here
    if directory := details.signatures.get("directory"):  # a replayed upload is scanned as the cloud scans
        os.environ["DESKOS_CLAMAV_DB"] = directory
    return details


def tenant_create(args: argparse.Namespace) -> int:
    from infra.local.seed import create_tenant_with_manager

    _connect(args)
    manager = create_tenant_with_manager(
        tenant_id=args.tenant_id,
        name=args.name,
        manager_email=args.manager_email,
        manager_password=args.manager_password,
    )
    print(json.dumps({"tenant_id": args.tenant_id, "manager": vars(manager)}, indent=2))
    return 0


def user_create(args: argparse.Namespace) -> int:
    from infra.local.seed import create_user

    if args.role == Role.PORTAL and not args.client_id:
        raise SystemExit("deskos user create: a portal user needs --client-id")
    _connect(args)
    user = create_user(
        tenant_id=args.tenant,
        role=Role(args.role),
        email=args.email,
        password=args.password,
        name=args.name,
        client_id=args.client_id,
    )
    print(json.dumps(vars(user), indent=2))
    return 0


def token(args: argparse.Namespace) -> int:
    details = _connect(args)
    password = args.password or details.password_of(args.username)
    if password is None:
        raise SystemExit(f"deskos token: {args.username} is not a demo user; pass --password")
    result = boto3.client("cognito-idp").initiate_auth(
        ClientId=details.user_pool_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": args.username, "PASSWORD": password},
    )
    print(result["AuthenticationResult"]["IdToken"])
    return 0


def outbox(args: argparse.Namespace) -> int:
    from infra.local import outbox as mail

    sent = mail.messages(LocalDetails.load(Path(args.state_dir)).aws_endpoint_url)
    if args.to:
        sent = [m for m in sent if args.to in m.get("destinations", {}).get("ToAddresses", [])]
    if args.json:
        print(json.dumps(sent, indent=2))
    else:
        print("\n".join(mail.render(m) for m in sent[-args.last :]) or "(no email sent yet)")
    return 0


def bounce(args: argparse.Namespace) -> int:
    from functions.events import mail_feedback
    from infra.local import mail_events
    from infra.local.lambda_context import LambdaContext

    details = _connect(args)
    tags = mail_events.tags_of_latest(details.aws_endpoint_url, args.address)
    if tags is None:
        if not args.tenant:
            raise SystemExit(f"deskos bounce: no campaign email to {args.address} in the outbox; pass --tenant")
        tags = {"tenant": args.tenant}
    event = mail_feedback.sns_event(mail_events.notification(args.address, tags, complaint=args.complaint))
    with contextlib.redirect_stdout(sys.stderr):  # the handler's metrics (EMF lines): stdout is the result's
        result = mail_feedback.handler(event, LambdaContext("MailFeedback"))
    print(json.dumps({"address": args.address, **tags, **result}))
    return 0


def schedule_run(args: argparse.Namespace) -> int:
    from infra.local.lambda_context import LambdaContext
    from infra.local.pump import load_handler, scheduled_event
    from infra.resources import SCHEDULES

    details = _connect(args)
    schedule = next((s for s in SCHEDULES if s.name == args.name), None)
    if schedule is None:
        raise SystemExit(f"deskos schedule run: no schedule {args.name!r}; known: {[s.name for s in SCHEDULES]}")
    event = scheduled_event(schedule, details.region)
    if args.at:  # the event as EventBridge would fire it then (a job that reads the event's time sweeps up to it)
        event["time"] = args.at
    result = load_handler(schedule.handler)(event, LambdaContext(schedule.name))
    print(json.dumps(result, default=str))
    return 0


def dlq_replay(args: argparse.Namespace) -> int:
    from infra.local.dlq import replay

    details = _connect(args)
    with contextlib.redirect_stdout(sys.stderr):  # the handlers' metrics (EMF lines): stdout is the result's
        result = replay(details.aws_endpoint_url, details.region, consumer=args.consumer)
    print(json.dumps({"replayed": result.replayed, "failed": result.failed}, indent=2))
    return 1 if result.failed else 0


def openapi(args: argparse.Namespace) -> int:
    from functions.api.catalog import openapi as document

    print(json.dumps(document(), indent=2))
    return 0


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state-dir", default=str(DEFAULT_STATE_DIR), help="where state and local.json live")
    root = argparse.ArgumentParser(prog="deskos", description="The DeskOS embedded local cloud.")
    commands = root.add_subparsers(dest="command", required=True)

    run = commands.add_parser("up", parents=[common], help="start the local cloud (until Ctrl+C)")
    run.add_argument("--fresh", action="store_true", help="start empty instead of restoring the saved state")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--api-port", type=int, default=DEFAULT_API_PORT)
    run.add_argument("--aws-port", type=int, default=DEFAULT_AWS_PORT)
    run.add_argument("--smtp-port", type=int, default=DEFAULT_SMTP_PORT, help="inbound email (loopback)")
    run.set_defaults(run=up)

    check = commands.add_parser("doctor", parents=[common], help="check what the local cloud needs; how to fix it")
    check.add_argument("--host", default="127.0.0.1")
    check.add_argument("--api-port", type=int, default=DEFAULT_API_PORT)
    check.add_argument("--aws-port", type=int, default=DEFAULT_AWS_PORT)
    check.add_argument("--smtp-port", type=int, default=DEFAULT_SMTP_PORT)
    check.set_defaults(run=doctor_command)

    tenant = commands.add_parser("tenant", help="tenants").add_subparsers(dest="action", required=True)
    create = tenant.add_parser("create", parents=[common], help="create a tenant and its first manager")
    create.add_argument("tenant_id")
    create.add_argument("--name", required=True)
    create.add_argument("--manager-email", required=True)
    create.add_argument("--manager-password", required=True)
    create.set_defaults(run=tenant_create)

    user = commands.add_parser("user", help="users").add_subparsers(dest="action", required=True)
    create = user.add_parser("create", parents=[common], help="create a user of a tenant")
    create.add_argument("--tenant", required=True)
    create.add_argument("--role", required=True, choices=[str(r) for r in Role])
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--name")
    create.add_argument("--client-id", help="the client account of a portal user")
    create.set_defaults(run=user_create)

    login = commands.add_parser("token", parents=[common], help="print an id token for a user")
    login.add_argument("username")
    login.add_argument("--password", help="defaults to the demo user's password from local.json")
    login.set_defaults(run=token)

    mailbox = commands.add_parser("outbox", parents=[common], help="show the emails the local cloud sent")
    mailbox.add_argument("--to", help="only those sent to this address")
    mailbox.add_argument("--last", type=int, default=20, help="how many of the latest to show")
    mailbox.add_argument("--json", action="store_true", help="every message, as JSON")
    mailbox.set_defaults(run=outbox)

    bounced = commands.add_parser(
        "bounce", parents=[common], help="play SES: a hard bounce (or a complaint) of an address the cloud mailed"
    )
    bounced.add_argument("address")
    bounced.add_argument("--complaint", action="store_true", help="a complaint instead of a bounce")
    bounced.add_argument("--tenant", help="the tenant, when no campaign email to the address is in the outbox")
    bounced.set_defaults(run=bounce)

    jobs = commands.add_parser("schedule", help="scheduled jobs").add_subparsers(dest="action", required=True)
    run_job = jobs.add_parser("run", parents=[common], help="run a scheduled job now against the local cloud")
    run_job.add_argument("name", help="e.g. SlaSweep")
    run_job.add_argument("--at", help="fire it as of this later UTC time (ISO 8601), e.g. 2030-01-07T09:00:00Z")
    run_job.set_defaults(run=schedule_run)

    dlq = commands.add_parser("dlq", help="dead-letter queues").add_subparsers(dest="action", required=True)
    replay = dlq.add_parser("replay", parents=[common], help="deliver dead letters to their consumer again")
    replay.add_argument("--consumer", help="only this consumer's queue, e.g. WorkOrderAutomation")
    replay.set_defaults(run=dlq_replay)

    document = commands.add_parser("openapi", help="print the OpenAPI document")
    document.set_defaults(run=openapi)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except DomainError as error:
        print(f"deskos {args.command}: {error.detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
