"""Segment membership as the stream and the refresh job keep it: a contact's change moves it in or out of
dynamic segments; a refresh that crashes resumes, and readers never see half a generation; deleting a tag or
a segment cleans up behind it."""

from __future__ import annotations

import time
import uuid

import pytest

from shared.clock import now
from shared.db.table import Item, tkey
from shared.marketing import audience, entity_tags, refresh, segments
from shared.marketing.segments import Member
from tests.integration.api import marketing_helpers as mk
from tests.integration.api.harness import call


def tagged_criteria(field: str, tag_id: str) -> dict:
    return {
        "match": "all",
        "conditions": [
            {"field": "client.customer_type", "operator": "equals", "value": "premium"},
            {"field": field, "operator": "has_tag", "value": tag_id},
        ],
    }


def member_ids(tenant, segment_id: str) -> list[str]:
    return [m["contact_id"] for m in mk.members(tenant, segment_id)]


def test_tagging_a_contact_moves_it_into_the_dynamic_segment_through_the_stream(tenant, pump_stream):
    premium = tenant.client("Premium", customer_type="premium")
    ann, bob = (tenant.contact(premium["id"], name) for name in ("Ann", "Bob"))
    vip = mk.tag(tenant, "vip")
    made = mk.segment(tenant, criteria=tagged_criteria("contact.tags", vip["id"]))
    mk.refreshed(tenant, made["id"])
    pump_stream()
    assert member_ids(tenant, made["id"]) == []

    mk.apply(tenant, vip["id"], "contact", ann["id"])
    pump_stream()
    assert member_ids(tenant, made["id"]) == [ann["id"]]
    assert mk.segment_of(tenant, made["id"])["member_count"] == 1

    call(
        tenant.agent,
        "DELETE",
        "/marketing/entity-tags/{tag_id}/{entity_kind}/{entity_id}",
        {"tag_id": vip["id"], "entity_kind": "contact", "entity_id": ann["id"]},
    )
    pump_stream()
    assert member_ids(tenant, made["id"]) == []
    assert mk.segment_of(tenant, made["id"])["member_count"] == 0
    assert bob["id"] not in member_ids(tenant, made["id"])


def test_tagging_a_client_moves_its_contacts_in(tenant, pump_stream):
    premium = tenant.client("Premium", customer_type="premium")
    contacts = sorted(tenant.contact(premium["id"], f"C{i}")["id"] for i in range(3))
    gold = mk.tag(tenant, "gold")
    made = mk.segment(tenant, criteria=tagged_criteria("client.tags", gold["id"]))
    mk.refreshed(tenant, made["id"])

    mk.apply(tenant, gold["id"], "client", premium["id"])
    pump_stream()

    assert member_ids(tenant, made["id"]) == contacts


def test_a_new_contact_joins_a_recent_contacts_segment(tenant, pump_stream):
    client = tenant.client("Any")
    recent = {
        "match": "all",
        "conditions": [{"field": "contact.created_at", "operator": "within_last_days", "value": 30}],
    }
    made = mk.segment(tenant, criteria=recent)
    mk.refreshed(tenant, made["id"])
    contact = tenant.contact(client["id"], "Newcomer")
    pump_stream()
    assert member_ids(tenant, made["id"]) == [contact["id"]]


PREMIUM = {"match": "all", "conditions": [{"field": "client.customer_type", "operator": "equals", "value": "premium"}]}


def test_a_crashed_refresh_resumes_and_readers_never_see_half_a_generation(tenant, faults, monkeypatch):
    premium = tenant.client("Premium", customer_type="premium")
    contacts = sorted(tenant.contact(premium["id"], f"C{i}")["id"] for i in range(7))
    everyone = {
        "match": "all",
        "conditions": [{"field": "client.customer_type", "operator": "equals", "value": "premium"}],
    }
    made = mk.segment(tenant, criteria=everyone)
    monkeypatch.setattr(audience, "CHUNK", 2)  # four pages of contacts
    # the state update after the second page fails: the refresh dies there
    seen = {"n": 0}

    def second_cursor(params) -> bool:
        if ":" not in str(params.get("UpdateExpression", "")) or "refresh_cursor" not in str(params):
            return False
        seen["n"] += 1
        return seen["n"] == 2

    faults.fail("UpdateItem", {"Error": {"Code": "InternalFailure", "Message": "crash"}}, times=1, when=second_cursor)
    with pytest.raises(Exception):  # noqa: B017 - the function dies mid-refresh
        refresh.run(tenant.id, made["id"], time.monotonic() + 30)
    faults.clear()
    assert member_ids(tenant, made["id"]) == []  # readers still see the old (empty) generation, whole
    assert mk.segment_of(tenant, made["id"])["refreshing"] is True

    assert refresh.run(tenant.id, made["id"], time.monotonic() + 30)

    assert member_ids(tenant, made["id"]) == contacts
    got = mk.segment_of(tenant, made["id"])
    assert got["member_count"] == 7 and not got["refreshing"]
    stale = list(Member.query(Member.partition(tenant.id, made["id"], 0)))
    assert stale == []


def test_a_refresh_stays_due_until_the_old_generation_is_gone_then_due_an_hour_on(tenant, monkeypatch):
    premium = tenant.client("Premium", customer_type="premium")
    for i in range(5):
        tenant.contact(premium["id"], f"C{i}")
    made = mk.segment(tenant, criteria=PREMIUM)
    assert refresh.run(tenant.id, made["id"], time.monotonic() + 30)  # generation 1: five members
    monkeypatch.setattr(refresh, "CLEANUP_PAGE", 2)
    refresh.refresh_now(tenant.id, made["id"])
    clock = iter([0.0, 0.0, 0.0, 99.0]).__next__  # begin, the page and switch, 2 of 5 old deleted, deadline
    assert not refresh.run(tenant.id, made["id"], 1.0, clock=clock)
    state = segments.state_of(tenant.id, made["id"])
    assert state.cleanup_generation == 1 and state.generation == 2
    assert (tenant.id, made["id"]) in refresh.due_now(now())  # the next run deletes the rest
    assert refresh.run(tenant.id, made["id"], time.monotonic() + 30)
    state = segments.state_of(tenant.id, made["id"])
    assert state.cleanup_generation is None and (tenant.id, made["id"]) not in refresh.due_now(now())
    assert (tenant.id, made["id"]) in refresh.due_now(state.refreshed_at + refresh.EVERY)
    assert list(Member.query(Member.partition(tenant.id, made["id"], int(state.generation) - 1))) == []


def test_a_run_reads_the_tags_applications_once_whatever_its_pages(tenant, faults, monkeypatch):
    client = tenant.client("Any")
    contacts = [tenant.contact(client["id"], f"C{i}")["id"] for i in range(5)]
    vip = mk.tag(tenant, f"vip-{uuid.uuid4().hex}")
    mk.apply(tenant, vip["id"], "contact", contacts[0])
    tagged = {"match": "all", "conditions": [{"field": "contact.tags", "operator": "has_tag", "value": vip["id"]}]}
    made = mk.segment(tenant, criteria=tagged)
    monkeypatch.setattr(audience, "CHUNK", 2)  # three pages of contacts
    reads = []
    faults.before("Query", reads.append, times=None, when=lambda params: "#ENTITIES" in str(params))
    assert refresh.run(tenant.id, made["id"], time.monotonic() + 30)
    assert len(reads) == 1
    assert member_ids(tenant, made["id"]) == [contacts[0]]


def test_a_refresh_asked_for_during_one_follows_it(tenant):
    premium = tenant.client("Premium", customer_type="premium")
    tenant.contact(premium["id"], "C0")
    made = mk.segment(tenant, criteria=PREMIUM)
    clock = iter([0.0, 0.0, 99.0]).__next__  # begin, the only page, then the deadline
    assert not refresh.run(tenant.id, made["id"], 1.0, clock=clock)
    refresh.refresh_now(tenant.id, made["id"])  # e.g. the criteria changed meanwhile
    assert refresh.run(tenant.id, made["id"], time.monotonic() + 30)  # switches, cleans up
    assert (tenant.id, made["id"]) in refresh.due_now(now())  # the request is not lost


def test_the_refresh_job_finds_due_segments(tenant):
    made = mk.segment(
        tenant, criteria={"match": "any", "conditions": [{"field": "contact.name", "operator": "is_empty"}]}
    )
    assert (tenant.id, made["id"]) in refresh.due_now(now())


def test_deleting_a_tag_removes_its_applications_in_the_background(tenant, pump_stream):
    client = tenant.client("Any")
    contacts = [tenant.contact(client["id"], f"C{i}")["id"] for i in range(3)]
    doomed = mk.tag(tenant, f"doomed-{uuid.uuid4().hex}")
    body = {"tag_id": doomed["id"], "entities": [{"kind": "contact", "id": c} for c in contacts]}
    assert call(tenant.agent, "POST", "/marketing/entity-tags/bulk-apply", body=body).status == 200

    reply = call(tenant.agent, "DELETE", "/marketing/tags/{tag_id}", {"tag_id": doomed["id"]})
    assert reply.status == 204
    assert entity_tags.tagged_with(tenant.id, doomed["id"])  # still there: removed in the background
    pump_stream()

    assert entity_tags.tagged_with(tenant.id, doomed["id"]) == set()
    assert all(entity_tags.tags_of(tenant.id, "contact", c) == set() for c in contacts)


def test_deleting_a_segment_removes_its_members_in_the_background(tenant, pump_stream):
    client = tenant.client("Any")
    contacts = [tenant.contact(client["id"], f"C{i}")["id"] for i in range(3)]
    made = mk.static_segment(tenant, contacts)
    assert call(tenant.manager, "DELETE", "/marketing/segments/{segment_id}", {"segment_id": made["id"]}).status == 204
    pump_stream()
    left = list(Item.query(tkey(tenant.id, "SEGMENT", made["id"], "G", "0")))
    assert left == []
