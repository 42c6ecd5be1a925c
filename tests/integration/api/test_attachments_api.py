"""Attachments through the handlers, S3 (moto, with POST policies enforced) and the scan function fed by
the S3 -> SQS notification through the event pump, with the real ClamAV engine (EICAR database)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import pytest
import requests
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError
from PIL import Image

from infra.local import dlq
from infra.resources import UPLOAD_CONSUMERS
from shared.attachments import scanner
from shared.settings import settings
from tests.integration.api.harness import Tenant, call
from tests.samples import EICAR, PDF, WINDOWS_EXE, png

TICKET_ATTACHMENTS = "/support/tickets/{ticket_id}/attachments"


def start_upload(user, ticket_id: str, name: str, content: bytes, content_type: str, **fields: Any):
    body = {"original_filename": name, "content_type": content_type, "size": len(content), **fields}
    return call(user, "POST", TICKET_ATTACHMENTS, {"ticket_id": ticket_id}, body=body)


def post_to_s3(upload: dict[str, Any], content: bytes, name: str = "file") -> requests.Response:
    return requests.post(upload["url"], data=upload["fields"], files={"file": (name, content)}, timeout=10)


def upload(pump, user, ticket_id: str, name: str, content: bytes, content_type: str, **fields: Any) -> dict:
    """The whole client side: start, POST the bytes to S3, let the scan run; the attachment as it ends."""
    started = start_upload(user, ticket_id, name, content, content_type, **fields)
    assert started.status == 201, started.text
    sent = post_to_s3(started.json["upload"], content, name)
    assert sent.status_code == 204, sent.text
    pump()
    reply = call(user, "GET", "/attachments/{attachment_id}", {"attachment_id": started.json["attachment"]["id"]})
    assert reply.status == 200, reply.text
    return reply.json


def tags(cloud, key: str) -> dict[str, str]:
    tag_set = cloud.client("s3").get_object_tagging(Bucket=settings().bucket_name, Key=key)["TagSet"]
    return {tag["Key"]: tag["Value"] for tag in tag_set}


def objects(cloud, prefix: str) -> list[str]:
    listed = cloud.client("s3").list_objects_v2(Bucket=settings().bucket_name, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def redeliver(cloud, key: str, etag: str | None = None) -> list[dict[str, str]]:
    """S3's ObjectCreated event for the object now under ``key`` (or of ``etag``), handed to the scan (again);
    the batch item failures it reports."""
    from functions.events.scan_upload import handler
    from infra.local.lambda_context import LambdaContext
    from infra.local.pump import sqs_record

    etag = etag or cloud.client("s3").head_object(Bucket=settings().bucket_name, Key=key)["ETag"].strip('"')
    change = {"eventName": "ObjectCreated:Post", "s3": {"object": {"key": quote_plus(key), "eTag": etag}}}
    message = {"MessageId": "m1", "ReceiptHandle": "r", "Body": json.dumps({"Records": [change]}), "MD5OfBody": ""}
    event = {"Records": [sqs_record(message, "arn:aws:sqs:eu-west-1:123456789012:uploads", cloud.region)]}
    return handler(event, LambdaContext("UploadScan"))["batchItemFailures"]


@pytest.fixture
def pump_stream(cloud, pump_stream: Callable[..., int]) -> Callable[..., int]:
    """The common one (S3's upload notifications to the scan, the table's stream to its consumers), once the
    module's table is emptied."""
    return pump_stream


@pytest.fixture
def scene(cloud, tenant: Tenant):  # cloud first: it empties the table
    client = tenant.client("Acme")
    portal = tenant.portal_user(client["id"])
    ticket = tenant.ticket(portal)
    return tenant, portal, ticket


# ---- the happy path ----------------------------------------------------------------------------


def test_a_portal_png_becomes_clean_with_a_thumbnail_and_downloads_under_its_name(scene, pump_stream, cloud):
    tenant, portal, ticket = scene
    content = png(1024, 512)

    # When the portal user uploads a PNG through the presigned POST and the scan runs
    attachment = upload(pump_stream, portal, ticket["id"], "Screen shot (1).png", content, "image/png")

    # Then it is clean, public, typed from its bytes, with a thumbnail of 256 px on the longest side
    assert attachment["status"] == "clean", attachment
    assert (attachment["mime_type"], attachment["category"], attachment["size"]) == ("image/png", "image", len(content))
    assert attachment["is_public"] is True and attachment["thumbnail_available"] is True
    assert attachment["scan_result"]["engine"].startswith("clamscan") and attachment["scan_result"]["signature"] is None
    thumb = call(portal, "GET", "/attachments/{attachment_id}/thumbnail", {"attachment_id": attachment["id"]})
    assert thumb.status == 200, thumb.text
    with Image.open(io.BytesIO(requests.get(thumb.json["url"], timeout=10).content)) as image:
        assert (image.format, image.size) == ("WEBP", (256, 128))

    # When the agent downloads it twice
    for _ in range(2):
        link = call(tenant.agent, "GET", "/attachments/{attachment_id}/download", {"attachment_id": attachment["id"]})
        assert link.status == 200, link.text
    # Then the link serves the bytes as an attachment named as uploaded, and both downloads count
    got = requests.get(link.json["url"], timeout=10)
    assert got.content == content
    assert got.headers["Content-Disposition"].startswith('attachment; filename="Screen shot (1).png"')
    after = call(tenant.agent, "GET", "/attachments/{attachment_id}", {"attachment_id": attachment["id"]}).json
    assert after["download_count"] == 2 and after["last_downloaded_at"] is not None


# ---- what the scan stops -----------------------------------------------------------------------


def test_eicar_named_invoice_pdf_ends_infected_quarantined_and_staff_are_told(scene, pump_stream, cloud):
    tenant, portal, ticket = scene

    attachment = upload(pump_stream, portal, ticket["id"], "invoice.pdf", EICAR, "application/pdf")

    assert attachment["status"] == "infected", attachment
    assert "Eicar-Test-Signature" in attachment["scan_result"]["signature"]
    key = f"t/{tenant.id}/ticket/{ticket['id']}/{attachment['id']}"
    quarantined = f"t/{tenant.id}/quarantine/ticket/{ticket['id']}/{attachment['id']}"
    assert objects(cloud, key) == [] and objects(cloud, quarantined) == [quarantined]
    refused = call(tenant.agent, "GET", "/attachments/{attachment_id}/download", {"attachment_id": attachment["id"]})
    assert refused.problem(409)["attachment_status"] == "infected"
    from infra.local.outbox import messages

    mailed = [m for m in messages(cloud.server.url) if "invoice.pdf" in m["subject"]]
    assert mailed and tenant.agent.email in mailed[-1]["destinations"]["ToAddresses"]


def test_staff_hear_of_an_infected_upload_once_even_if_the_first_email_fails(scene, pump_stream, cloud, monkeypatch):
    from infra.local.outbox import messages
    from shared import mail

    tenant, portal, ticket = scene
    started = start_upload(portal, ticket["id"], "payroll.pdf", EICAR, "application/pdf").json
    key = f"t/{tenant.id}/ticket/{ticket['id']}/{started['attachment']['id']}"
    assert post_to_s3(started["upload"], EICAR).status_code == 204
    etag = cloud.client("s3").head_object(Bucket=settings().bucket_name, Key=key)["ETag"].strip('"')

    def told() -> int:
        return len([m for m in messages(cloud.server.url) if "payroll.pdf" in m["subject"]])

    # Given SES refuses the first email
    def refuse(*_args, **_kwargs):
        raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "SendRawEmail")

    monkeypatch.setattr(mail, "send", refuse)
    # When the scan judges the upload: the verdict stands, but the event fails (a one-record batch: the whole
    # invocation), so that it is retried
    with pytest.raises(BatchProcessingError, match="staff not yet told"):
        redeliver(cloud, key, etag)
    got = call(tenant.agent, "GET", "/attachments/{attachment_id}", {"attachment_id": started["attachment"]["id"]})
    assert got.json["status"] == "infected" and objects(cloud, key) == [] and told() == 0

    # When SES works again and the event is redelivered: the owed email goes out
    monkeypatch.undo()
    assert redeliver(cloud, key, etag) == []
    assert told() == 1

    # When the event arrives yet again (and S3's original notification is delivered): nobody is told twice
    assert redeliver(cloud, key, etag) == []
    pump_stream()
    assert told() == 1


def test_a_windows_executable_named_photo_jpg_ends_rejected(scene, pump_stream, cloud):
    tenant, _portal, ticket = scene

    attachment = upload(pump_stream, tenant.agent, ticket["id"], "photo.jpg", WINDOWS_EXE, "image/jpeg")

    assert attachment["status"] == "rejected", attachment
    assert "Windows executable" in attachment["status_reason"]
    assert objects(cloud, f"t/{tenant.id}/ticket/") == []  # moved to quarantine
    refused = call(tenant.agent, "GET", "/attachments/{attachment_id}/download", {"attachment_id": attachment["id"]})
    assert refused.problem(409)["attachment_status"] == "rejected"


def test_a_pdf_that_is_really_text_is_rejected_for_disagreeing_with_its_extension(scene, pump_stream):
    tenant, _portal, ticket = scene

    attachment = upload(pump_stream, tenant.agent, ticket["id"], "report.pdf", b"just words\n", "application/pdf")

    assert (attachment["status"], attachment["mime_type"]) == ("rejected", "text/plain")


def test_a_redelivered_event_changes_nothing(scene, pump_stream, cloud):
    tenant, _portal, ticket = scene
    attachment = upload(pump_stream, tenant.agent, ticket["id"], "doc.pdf", PDF, "application/pdf")

    # When S3's event for the same object arrives again
    assert redeliver(cloud, f"t/{tenant.id}/ticket/{ticket['id']}/{attachment['id']}") == []

    # Then the record is exactly as it was
    again = call(tenant.agent, "GET", "/attachments/{attachment_id}", {"attachment_id": attachment["id"]}).json
    assert again == attachment


def dead_letters(cloud, queue: str) -> int:
    url = cloud.client("sqs").get_queue_url(QueueName=queue)["QueueUrl"]
    attributes = cloud.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_a_scan_whose_engine_keeps_failing_is_retried_dead_lettered_and_replayed_once_fixed(
    scene, pump_stream, cloud, tmp_path, monkeypatch
):
    # Given a ClamAV that errors on every scan (clamd gone, clamscan exiting 2)
    tenant, _portal, ticket = scene
    broken = tmp_path / "clamscan"
    runs = tmp_path / "runs"
    broken.write_text(
        '#!/bin/sh\ncase "$*" in *--version*) echo "ClamAV 1.4.3"; exit 0;; esac\n'
        f"echo scan >> {runs}\necho 'LibClamAV Error: cli_loaddb(): No supported database' >&2\nexit 2\n"
    )
    broken.chmod(0o755)
    monkeypatch.setenv("DESKOS_CLAMD_SOCKET", str(tmp_path / "no-clamd.sock"))
    monkeypatch.setenv("DESKOS_CLAMSCAN", str(broken))
    [consumer] = UPLOAD_CONSUMERS

    # When a file is uploaded and the pump delivers its notification until the queue gives up
    attachment = upload(pump_stream, tenant.agent, ticket["id"], "doc.pdf", PDF, "application/pdf")

    # Then it was tried max_receives times, says why it is not judged, and its message waits in the scan's DLQ
    assert len(runs.read_text().split()) == consumer.max_receives == scanner.ATTEMPTS
    assert attachment["status"] == "scan_failed", attachment
    assert attachment["status_reason"] == (
        "The virus scan could not run (3 attempts): clamscan exited 2: LibClamAV Error: cli_loaddb(): No supported"
        " database"
    )
    assert dead_letters(cloud, f"{consumer.name}-dlq") == 1
    refused = call(tenant.agent, "GET", "/attachments/{attachment_id}/download", {"attachment_id": attachment["id"]})
    assert refused.problem(409)["attachment_status"] == "scan_failed"
    # And the tenant's staff were emailed, once
    from infra.local.outbox import messages

    mailed = [m for m in messages(cloud.server.url) if m["subject"] == "Upload could not be scanned: doc.pdf"]
    assert len(mailed) == 1 and tenant.agent.email in mailed[0]["destinations"]["ToAddresses"]
    assert attachment["status_reason"] in mailed[0]["body"]

    # When ClamAV works again and the dead letters are replayed
    monkeypatch.delenv("DESKOS_CLAMSCAN")
    result = dlq.replay(cloud.server.url, cloud.region, consumer=consumer.name)

    # Then the upload is scanned clean and the DLQ is empty
    assert (result.replayed, result.failed) == (1, [])
    again = call(tenant.agent, "GET", "/attachments/{attachment_id}", {"attachment_id": attachment["id"]}).json
    assert (again["status"], again["status_reason"]) == ("clean", None)
    assert dead_letters(cloud, f"{consumer.name}-dlq") == 0


def test_malware_first_not_scanned_then_judged_infected_is_told_to_staff_as_such(
    scene, pump_stream, cloud, tmp_path, monkeypatch
):
    from infra.local.outbox import messages

    tenant, portal, ticket = scene
    broken = tmp_path / "clamscan"
    broken.write_text('#!/bin/sh\ncase "$*" in *--version*) echo "ClamAV 1.4.3"; exit 0;; esac\nexit 2\n')
    broken.chmod(0o755)
    monkeypatch.setenv("DESKOS_CLAMD_SOCKET", str(tmp_path / "no-clamd.sock"))
    monkeypatch.setenv("DESKOS_CLAMSCAN", str(broken))

    # Given EICAR uploaded while the engine fails: scan_failed, and staff are told it could not be scanned
    attachment = upload(pump_stream, portal, ticket["id"], "wages.pdf", EICAR, "application/pdf")
    assert attachment["status"] == "scan_failed", attachment

    # When the engine works again and the notification comes once more
    monkeypatch.delenv("DESKOS_CLAMSCAN")
    assert redeliver(cloud, f"t/{tenant.id}/ticket/{ticket['id']}/{attachment['id']}") == []

    # Then it is infected, and staff hear of that too (the first notice does not stand for the second)
    again = call(tenant.agent, "GET", "/attachments/{attachment_id}", {"attachment_id": attachment["id"]}).json
    assert again["status"] == "infected"
    subjects = [m["subject"] for m in messages(cloud.server.url) if "wages.pdf" in m["subject"]]
    assert subjects == ["Upload could not be scanned: wages.pdf", "Infected upload blocked: wages.pdf"]


# ---- abandoned uploads: the pending tag the bucket's lifecycle expires ---------------------------


def test_an_upload_is_tagged_pending_until_the_scan_judges_it_clean(scene, pump_stream, cloud):
    tenant, _portal, ticket = scene
    started = start_upload(tenant.agent, ticket["id"], "notes.txt", b"hello\n", "text/plain").json
    key = f"t/{tenant.id}/ticket/{ticket['id']}/{started['attachment']['id']}"

    # When the client uploads through the presigned POST
    assert post_to_s3(started["upload"], b"hello\n").status_code == 204
    # Then S3 stored the object tagged pending (what the abandoned-uploads lifecycle rule expires)
    assert tags(cloud, key) == {"deskos-status": "pending"}

    # When the scan judges it clean
    pump_stream()
    # Then it is no longer pending: the lifecycle rule leaves it alone
    assert (
        call(tenant.agent, "GET", "/attachments/{attachment_id}", {"attachment_id": started["attachment"]["id"]}).json[
            "status"
        ]
        == "clean"
    )
    assert tags(cloud, key) == {"deskos-status": "clean"}


def test_a_quarantined_upload_is_tagged_quarantined_not_pending(scene, pump_stream, cloud):
    tenant, _portal, ticket = scene

    attachment = upload(pump_stream, tenant.agent, ticket["id"], "invoice.pdf", EICAR, "application/pdf")

    key = f"t/{tenant.id}/quarantine/ticket/{ticket['id']}/{attachment['id']}"
    assert attachment["status"] == "infected" and tags(cloud, key) == {"deskos-status": "quarantined"}


@pytest.mark.parametrize("tagging", [None, "<Tagging><TagSet></TagSet></Tagging>"])
def test_s3_refuses_an_upload_that_drops_or_changes_the_pending_tag(scene, cloud, tagging):
    tenant, _portal, ticket = scene
    started = start_upload(tenant.agent, ticket["id"], "a.txt", b"hello", "text/plain").json["upload"]
    fields = {name: value for name, value in started["fields"].items() if name != "tagging"}

    sent = requests.post(
        started["url"], data={**fields, **({"tagging": tagging} if tagging else {})}, files={"file": b"hello"}
    )

    assert sent.status_code == 403 and "Policy Condition failed" in sent.text
    assert objects(cloud, f"t/{tenant.id}/") == []


def test_a_redelivered_event_finishes_a_retag_a_crash_interrupted(scene, pump_stream, cloud):
    tenant, _portal, ticket = scene
    attachment = upload(pump_stream, tenant.agent, ticket["id"], "doc.pdf", PDF, "application/pdf")
    key = f"t/{tenant.id}/ticket/{ticket['id']}/{attachment['id']}"
    # Given the scan recorded the verdict and crashed before re-tagging the object
    bucket = settings().bucket_name
    cloud.client("s3").put_object_tagging(
        Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": "deskos-status", "Value": "pending"}]}
    )

    # When S3's event for the same object is delivered again
    assert redeliver(cloud, key) == []

    # Then the object is no longer pending, and the record is unchanged
    assert tags(cloud, key) == {"deskos-status": "clean"}
    assert (
        call(tenant.agent, "GET", "/attachments/{attachment_id}", {"attachment_id": attachment["id"]}).json
        == attachment
    )


# ---- what the API and S3 refuse ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type", "size", "status", "field"),
    [
        ("virus.exe", "application/octet-stream", 10, 422, "original_filename"),
        ("../../etc/passwd.txt", "text/plain", 10, 422, "original_filename"),
        ("a\\b.txt", "text/plain", 10, 422, "original_filename"),
        (".hidden.txt", "text/plain", 10, 422, "original_filename"),
        ("notes\u202etxt.exe.txt", "text/plain", 10, 422, "original_filename"),
        ("photo.png", "application/pdf", 10, 422, "content_type"),
        ("empty.txt", "text/plain", 0, 422, "size"),
        ("huge.zip", "application/zip", 25 * 1024 * 1024 + 1, 413, None),
    ],
)
def test_the_api_refuses_bad_names_types_and_sizes_with_the_reason(scene, name, content_type, size, status, field):
    tenant, _portal, ticket = scene
    body = {"original_filename": name, "content_type": content_type, "size": size}

    reply = call(tenant.agent, "POST", TICKET_ATTACHMENTS, {"ticket_id": ticket["id"]}, body=body)

    problem = reply.problem(status)
    if field:
        assert field in reply.field_errors()
    assert problem["detail"]


def test_s3_itself_refuses_a_file_larger_or_smaller_than_declared(scene, cloud):
    tenant, _portal, ticket = scene
    declared = b"tiny"
    started = start_upload(tenant.agent, ticket["id"], "small.txt", declared, "text/plain")
    assert started.json["upload"]["max_bytes"] == len(declared)

    # When the client sends one byte more, or one byte less, than it declared
    larger = post_to_s3(started.json["upload"], declared + b"!")
    smaller = post_to_s3(started.json["upload"], declared[:-1])

    # Then S3 refuses both (the policy's content-length-range is the declared size) and stores nothing
    assert larger.status_code == 400 and "<Code>EntityTooLarge</Code>" in larger.text
    assert smaller.status_code == 400 and "<Code>EntityTooSmall</Code>" in smaller.text
    assert objects(cloud, f"t/{tenant.id}/") == []


def test_s3_refuses_an_upload_to_another_key_than_the_policy_pins(scene, cloud):
    tenant, _portal, ticket = scene
    started = start_upload(tenant.agent, ticket["id"], "a.txt", b"hello", "text/plain").json["upload"]

    sent = requests.post(
        started["url"], data={**started["fields"], "key": f"t/{tenant.id}/elsewhere"}, files={"file": b"hello"}
    )

    assert sent.status_code == 403 and "Policy Condition failed" in sent.text


# ---- who sees what -----------------------------------------------------------------------------


def test_portal_users_list_public_attachments_only(scene, pump_stream):
    tenant, portal, ticket = scene
    public = upload(pump_stream, tenant.agent, ticket["id"], "public.txt", b"hi\n", "text/plain", is_public=True)
    private = upload(pump_stream, tenant.agent, ticket["id"], "internal.txt", b"hush\n", "text/plain")

    staff_sees = call(tenant.agent, "GET", TICKET_ATTACHMENTS, {"ticket_id": ticket["id"]}).json["items"]
    portal_sees = call(portal, "GET", TICKET_ATTACHMENTS, {"ticket_id": ticket["id"]}).json["items"]

    assert {a["id"] for a in staff_sees} == {public["id"], private["id"]}
    assert [a["id"] for a in portal_sees] == [public["id"]]
    hidden = call(portal, "GET", "/attachments/{attachment_id}/download", {"attachment_id": private["id"]})
    hidden.problem(404)


@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("GET", "/attachments/{attachment_id}"),
        ("GET", "/attachments/{attachment_id}/download"),
        ("GET", "/attachments/{attachment_id}/thumbnail"),
        ("DELETE", "/attachments/{attachment_id}"),
    ],
)
def test_another_tenant_cannot_learn_an_attachment_exists(scene, pump_stream, new_tenant, method, template):
    _tenant, portal, ticket = scene
    attachment = upload(pump_stream, portal, ticket["id"], "pic.png", png(64, 64), "image/png")
    other = new_tenant()

    reply = call(other.manager, method, template, {"attachment_id": attachment["id"]})

    reply.problem(404)


def test_another_tenant_cannot_list_or_upload_to_a_ticket(scene, new_tenant):
    _tenant, _portal, ticket = scene
    other = new_tenant()

    call(other.agent, "GET", TICKET_ATTACHMENTS, {"ticket_id": ticket["id"]}).problem(404)
    start_upload(other.agent, ticket["id"], "a.txt", b"x", "text/plain").problem(404)


def test_portal_users_may_not_delete(scene, pump_stream):
    _tenant, portal, ticket = scene
    attachment = upload(pump_stream, portal, ticket["id"], "a.txt", b"x\n", "text/plain")

    call(portal, "DELETE", "/attachments/{attachment_id}", {"attachment_id": attachment["id"]}).problem(403)


def test_staff_delete_removes_the_record_and_every_object(scene, pump_stream, cloud):
    tenant, portal, ticket = scene
    attachment = upload(pump_stream, portal, ticket["id"], "pic.png", png(64, 64), "image/png")

    deleted = call(tenant.agent, "DELETE", "/attachments/{attachment_id}", {"attachment_id": attachment["id"]})

    assert deleted.status == 204, deleted.text
    call(tenant.agent, "GET", "/attachments/{attachment_id}", {"attachment_id": attachment["id"]}).problem(404)
    assert objects(cloud, f"t/{tenant.id}/") == []  # the upload, its thumbnail and any quarantined copy


def test_only_uploads_notify_the_scan_never_the_objects_it_derives(scene, cloud):
    tenant, portal, ticket = scene
    [consumer] = UPLOAD_CONSUMERS
    queue = cloud.resources.queue_urls[consumer.queue]
    sqs, s3 = cloud.client("sqs"), cloud.client("s3")
    sqs.purge_queue(QueueUrl=queue)

    # When the scan's own kind of write lands (a thumbnail is a PUT) and a portal user uploads (a POST)
    s3.put_object(Bucket=settings().bucket_name, Key=f"t/{tenant.id}/thumbnails/ticket/x/y.webp", Body=b"w")
    started = start_upload(portal, ticket["id"], "pic.png", png(8, 8), "image/png")
    assert post_to_s3(started.json["upload"], png(8, 8)).status_code == 204

    # Then only the upload reaches the scan queue
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    keys = [unquote_plus(r["s3"]["object"]["key"]) for m in received for r in json.loads(m["Body"])["Records"]]
    assert keys == [f"t/{tenant.id}/ticket/{ticket['id']}/{started.json['attachment']['id']}"]
