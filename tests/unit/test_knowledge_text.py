"""The knowledge base's pure parts: text analysis (folding, stemming, CJK bigrams), ranking order, snippets,
diffs, the index's documents from stream images, and whose review turn an email is owed for."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.knowledge import index, search, text
from shared.knowledge.index import Posting
from shared.knowledge.items import diff_of
from shared.knowledge.mailing import reviewer_owed
from shared.knowledge.model import ItemVersion, KnowledgeItem


def test_words_are_folded_stemmed_and_stop_words_dropped():
    assert text.terms("The Café's RÉSUMÉS were Publishing") == ["cafe", "resum", "publish"]
    assert text.terms("published publishes publication") == ["publish", "publish", "public"]


def test_chinese_and_japanese_runs_become_overlapping_bigrams():
    assert text.terms("知识库") == ["知识", "识库"]
    assert text.terms("ナレッジ") == ["ナレ", "レッ", "ッジ"]
    assert text.terms("库") == ["库"]
    assert text.terms("VPN 设置") == ["vpn", "设置"]


def test_words_keep_their_place_in_the_text_for_highlighting():
    found = text.words("Resetting passwords, 知识库")
    assert [(start, end, term) for start, end, term in found] == [
        (0, 9, "reset"),
        (10, 19, "password"),
        (21, 23, "知识"),
        (22, 24, "识库"),
    ]


def test_a_snippet_marks_the_matching_words_and_escapes_the_rest():
    body = "Intro. " * 40 + "Reset the <b>password</b> from the sign-in page."
    snippet = search.snippet(body, {"password", "reset"})
    assert "<mark>Reset</mark>" in snippet and "<mark>password</mark>" in snippet
    assert "&lt;b&gt;" in snippet and snippet.startswith("…")


def posting(item_id: str, tf: int, dl: int = 10, v: int = 1) -> Posting:
    return Posting("p", item_id, item_id=item_id, v=v, tf=tf, dl=dl)


def test_items_holding_every_query_term_rank_before_items_with_more_of_one():
    postings = {"printer": [posting("both", 1), posting("many", 0)], "jam": [posting("both", 1), posting("many", 9)]}
    postings["printer"].pop()  # "many" holds only "jam", nine times
    ranked = search._rank(postings, documents=100, average=10.0)
    assert [c.item_id for c in ranked] == ["both", "many"]
    assert ranked[0].matched == 2


def test_postings_of_two_versions_mark_a_candidate_stale():
    ranked = search._rank({"a": [posting("x", 1, v=1)], "b": [posting("x", 1, v=2)]}, documents=10, average=10.0)
    assert ranked[0].v == -1


def version(number: int, body: str, title: str = "T") -> ItemVersion:
    return ItemVersion("p", f"V#{number}", item_id="i", number=number, title=title, kind="sop", body=body)


def test_a_diff_is_unified_and_structured():
    diff = diff_of(version(1, "a\nb\nc"), version(3, "a\nB\nc\nd", title="T2"))
    assert diff.title_changed and diff.against == 1
    assert "-b" in diff.unified and "+B" in diff.unified and "+d" in diff.unified
    assert [(h.op, h.old_start, h.old_lines, h.new_lines) for h in diff.hunks] == [
        ("replace", 2, ["b"], ["B"]),
        ("insert", 4, [], ["d"]),
    ]


def image(**fields) -> dict:
    typed = {}
    for name, value in fields.items():
        if isinstance(value, list):
            typed[name] = {"L": [{"S": v} for v in value]}
        elif isinstance(value, int):
            typed[name] = {"N": str(value)}
        else:
            typed[name] = {"S": value}
    return typed


def test_an_item_is_indexed_for_staff_and_only_a_public_live_copy_for_the_portal():
    item = image(entity="knowledge_item", tenant_id="t", id="I", current_version=3, title="VPN", body="Connect",
                 tags=["network"])  # fmt: skip
    doc = index.document_of(item)
    assert (doc.scope, doc.v, doc.item_id) == ("staff", 3, "I")
    assert doc.tf == {"vpn": 3, "connect": 1, "network": 2}
    live = image(entity="knowledge_published", tenant_id="t", item_id="I", number=2, title="VPN", body="", tags=[])
    assert index.document_of({**live, "visibility": {"S": "public"}}).scope == "public"
    assert index.document_of({**live, "visibility": {"S": "internal"}}) is None
    assert index.document_of(image(entity="ticket", tenant_id="t", id="X")) is None


def reviewing(step: int | None, status: str = "in_review", round_: str = "R1") -> KnowledgeItem:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    return KnowledgeItem(
        "p", "KITEM", id="I", title="T", kind="sop", owner_id="o", status=status, reviewers=["a", "b"],
        review_step=step, review_round=round_, created_at=moment, updated_at=moment,
    )  # fmt: skip


def test_a_reviewer_is_owed_an_email_when_their_turn_begins_and_only_then():
    assert reviewer_owed(reviewing(None, "draft"), reviewing(0)) == "a"
    assert reviewer_owed(reviewing(0), reviewing(1)) == "b"
    assert reviewer_owed(reviewing(1), reviewing(1)) is None  # another change during the same turn
    assert reviewer_owed(reviewing(0, round_="R1"), reviewing(0, round_="R2")) == "a"  # a new submission
    assert reviewer_owed(reviewing(1), reviewing(None, "approved")) is None
