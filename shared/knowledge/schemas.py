"""What the knowledge API takes and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import Field, StringConstraints

from shared.knowledge.model import MAX_BODY_BYTES, MAX_REVIEWERS, Kind, Status, Visibility
from shared.schemas import Id, Out, Strict, Tags, Version, Versioned

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Body = Annotated[str, Field(description=f"Markdown, at most {MAX_BODY_BYTES} bytes (UTF-8); more is a 413.")]
ReviewDays = Annotated[int, Field(ge=1, le=3650, description="Verify the item this many days after it was last.")]


class NewItem(Strict):
    title: Title
    kind: Kind
    body: Body = ""
    category: Category | None = None
    tags: Tags = []
    visibility: Visibility = "internal"
    owner_id: Id | None = Field(default=None, description="An active staff user; the author by default.")
    review_every_days: ReviewDays | None = None
    change_note: Note | None = None

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [{"title": "Resetting a password", "kind": "faq", "body": "Use **Forgot password**."}]
        }
    }


class ItemEdit(Versioned):
    """Content fields (title, kind, body, category, tags) make a new version; settings (visibility, owner,
    review interval) change the item alone."""

    title: Title | None = None
    kind: Kind | None = None
    body: Body | None = None
    category: Category | None = None
    tags: Tags | None = None
    change_note: Note | None = None
    visibility: Visibility | None = None
    owner_id: Id | None = None
    review_every_days: ReviewDays | None = None


CONTENT = ("title", "kind", "body", "category", "tags")
SETTINGS = ("visibility", "owner_id", "review_every_days")


class Restore(Strict):
    version: Version = None
    change_note: Note | None = None


class Submit(Strict):
    reviewer_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_REVIEWERS)] = Field(
        description="Active staff users of the tenant, in the order they review."
    )
    version: Version = None


class Decision(Strict):
    comment: Note | None = None
    version: Version = None


class ChangesRequested(Strict):
    comment: Note
    version: Version = None


class ItemSummaryOut(Out):
    id: str
    title: str
    kind: Kind
    category: str | None
    tags: list[str]
    visibility: Visibility
    status: Status
    owner_id: str | None
    current_version: int
    published_version: int | None
    published_at: datetime | None
    review_every_days: int | None
    review_due_at: datetime | None
    due_for_review: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, entity: Any) -> Self:
        from shared.clock import now
        from shared.knowledge.model import PublishedItem

        if isinstance(entity, PublishedItem):  # what a portal user sees: the live copy, nothing of the staff's
            return cls(
                **_published_fields(entity),
                owner_id=None,
                review_every_days=None,
                review_due_at=None,
                due_for_review=False,
            )
        return cls(
            **{f: getattr(entity, f) for f in ("id", "title", "kind", "category", "visibility", "status")},
            tags=list(entity.tags or []),
            owner_id=entity.owner_id,
            current_version=int(entity.current_version),
            published_version=_int(entity.published_version),
            published_at=entity.published_at,
            review_every_days=_int(entity.review_every_days),
            review_due_at=entity.review_due_at,
            due_for_review=entity.due_for_review(now()),
            created_at=entity.created_at,
            updated_at=entity.updated_at,
            version=int(entity.version),
        )


class ItemOut(ItemSummaryOut):
    body: str
    body_html: str = Field(description="The body rendered from Markdown and sanitised (no raw HTML, no scripts).")
    reviewer_ids: list[str] | None = None
    review_step: int | None = None
    review_version: int | None = None

    @classmethod
    def of(cls, entity: Any) -> Self:
        from shared.knowledge.model import PublishedItem
        from shared.knowledge.rendering import to_html

        summary = ItemSummaryOut.of(entity).model_dump()
        review = {}
        if not isinstance(entity, PublishedItem):
            review = {
                "reviewer_ids": list(entity.reviewers) if entity.reviewers else None,
                "review_step": _int(entity.review_step),
                "review_version": _int(entity.review_version),
            }
        return cls(**summary, body=entity.body, body_html=to_html(entity.body), **review)


def _published_fields(live: Any) -> dict[str, Any]:
    number = int(live.number)
    return {
        "id": live.item_id,
        **{f: getattr(live, f) for f in ("title", "kind", "category", "visibility", "published_at", "created_at")},
        "tags": list(live.tags or []),
        "status": "published",
        "current_version": number,
        "published_version": number,
        "updated_at": live.published_at,
        "version": number,
    }


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


class VersionSummaryOut(Out):
    number: int
    title: str
    kind: Kind
    category: str | None
    tags: list[str]
    change_note: str | None
    restored_from: int | None
    author_id: str
    created_at: datetime
    size: int = Field(description="Bytes of Markdown.")

    @classmethod
    def of(cls, entity: Any) -> Self:
        return cls(
            number=int(entity.number),
            title=entity.title,
            kind=entity.kind,
            category=entity.category,
            tags=list(entity.tags or []),
            change_note=entity.change_note,
            restored_from=_int(entity.restored_from),
            author_id=entity.author_id,
            created_at=entity.created_at,
            size=len(entity.body.encode()),
        )


class Hunk(Out):
    op: Literal["replace", "delete", "insert"]
    old_start: int = Field(description="First line (1-based) of the older version's lines.")
    old_lines: list[str]
    new_start: int
    new_lines: list[str]


class DiffOut(Out):
    against: int
    title_changed: bool
    unified: str = Field(description="The body's changes as a unified diff, from version `against` to this one.")
    hunks: list[Hunk]


class VersionOut(VersionSummaryOut):
    body: str
    body_html: str
    diff: DiffOut | None = None


class ReviewEventOut(Out):
    action: str
    actor_id: str
    version_number: int
    comment: str | None
    reviewer_ids: list[str] | None
    at: datetime

    @classmethod
    def of(cls, entity: Any) -> Self:
        return cls(
            action=entity.action,
            actor_id=entity.actor_id,
            version_number=int(entity.version_number),
            comment=entity.comment,
            reviewer_ids=list(entity.reviewers) if entity.reviewers else None,
            at=entity.at,
        )


class Hit(Out):
    id: str
    title: str
    kind: Kind
    category: str | None
    tags: list[str]
    status: Status
    visibility: Visibility
    score: float
    matched_terms: int = Field(description="How many of the query's terms the item holds (more rank first).")
    snippet: str = Field(description="A passage of the body (HTML-escaped) with the query's words in <mark>.")


class SearchOut(Out):
    items: list[Hit]
    terms: list[str] = Field(description="The query's terms after folding, stop words and stemming.")


class SuggestionOut(Out):
    items: list[Hit]


SearchQuery = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
