"""The stored items of surveys and their keys: the survey, an invitation, the cooldown of a recipient,
a response and the per-day counters."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from shared.db.entities import Entity
from shared.db.table import Item, tkey

Kind = Literal["nps", "csat", "ces"]
SendAfter = Literal["resolved"]
SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


class Survey(Entity, discriminator="survey"):
    noun, prefix = "survey", "SURVEY"
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    question = UnicodeAttribute()
    follow_up_question = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=True)
    send_after = UnicodeAttribute(default="resolved")
    cooldown_days = NumberAttribute(default=30)

    @staticmethod
    def partition_of_all(tenant_id: str) -> str:
        return tkey(tenant_id, "SURVEYS")

    @staticmethod
    def sent_after(tenant_id: str, event: str) -> str:
        return tkey(tenant_id, "SURVEYS", "ACTIVE", event)

    def index(self) -> None:
        order = self.time_order
        self.GSI1PK, self.GSI1SK = self.partition_of_all(self.tenant_id), order
        active = self.sent_after(self.tenant_id, self.send_after) if self.active else None
        self.GSI2PK, self.GSI2SK = (active, order) if active else (None, None)


class Invitation(Item, discriminator="survey_invitation"):
    id = UnicodeAttribute()
    survey_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    ticket_id = UnicodeAttribute(null=True)  # what it asks about: a resolved ticket…
    ticket_number = UnicodeAttribute(null=True)
    appointment_id = UnicodeAttribute(null=True)  # …or a meeting (a meeting workflow's survey action)
    appointment_title = UnicodeAttribute(null=True)
    recipient = JSONAttribute()  # {"kind": "contact"|"portal_user", "id": ...}
    email = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    sent_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def key(tenant_id: str, invitation_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "SURVEYINV", invitation_id), "INVITATION"

    @staticmethod
    def of_ticket(tenant_id: str, ticket_id: str) -> str:
        return tkey(tenant_id, "TICKET", ticket_id, "SURVEYINV")


class Recipient(Item, discriminator="survey_recipient"):
    """When a contact (or portal user) was last invited to a survey: the cooldown."""

    last_invited_at = UTCDateTimeAttribute()
    last_invitation_id = UnicodeAttribute()

    @staticmethod
    def key(tenant_id: str, recipient: dict[str, str]) -> tuple[str, str]:
        return tkey(tenant_id, "SURVEYRECIPIENT", recipient["kind"], recipient["id"]), "RECIPIENT"


class SurveyResponse(Item, discriminator="survey_response"):
    id = UnicodeAttribute()  # the invitation's id: one response per invitation
    survey_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    score = NumberAttribute()
    comment = UnicodeAttribute(null=True)
    ticket_id = UnicodeAttribute(null=True)
    appointment_id = UnicodeAttribute(null=True)
    respondent = JSONAttribute()
    channel = UnicodeAttribute()  # "link" (signed token) or "portal"
    responded_at = UTCDateTimeAttribute()

    @staticmethod
    def key(tenant_id: str, invitation_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "SURVEYRESP", invitation_id), "RESPONSE"

    @staticmethod
    def timeline(tenant_id: str) -> str:
        return tkey(tenant_id, "SURVEYRESPONSES")

    @staticmethod
    def of_survey(tenant_id: str, survey_id: str) -> str:
        return tkey(tenant_id, "SURVEY", survey_id, "RESPONSES")


class SurveyStat(Item, discriminator="survey_stat"):
    """How many responses gave one score on one day, for a survey or for all surveys of a kind."""

    responses = NumberAttribute(default=0)

    @staticmethod
    def partition(tenant_id: str, scope: str) -> str:
        return tkey(tenant_id, "SURVEYSTATS", scope)

    @staticmethod
    def sort(day: date, score: int) -> str:
        return f"{day.isoformat()}#{score:02d}"


def survey_scope(survey_id: str) -> str:
    return f"SURVEY#{survey_id}"


def kind_scope(kind: str) -> str:
    return f"KIND#{kind}"
