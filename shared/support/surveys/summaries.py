"""NPS, CSAT and CES over a date range, read from the per-day counters (never from the responses)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from shared.caller import TenantContext
from shared.db.errors import storage_errors
from shared.errors import Unprocessable
from shared.support.surveys.model import SCALES, Kind, Survey, SurveyStat, kind_scope, survey_scope


class NpsSummary(BaseModel):
    responses: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None = Field(description="% promoters - % detractors, -100..100; null without responses")


class ScaleSummary(BaseModel):
    responses: int
    average: float | None
    distribution: dict[str, int] = Field(description="responses per score, every score of the scale")


def score_counts(
    ctx: TenantContext, kind: Kind, *, survey_id: str | None, date_from: date | None, date_to: date | None
) -> dict[int, int]:
    """Responses per score over a date range (UTC days, inclusive): one Query over the day counters."""
    if date_from and date_to and date_from > date_to:
        raise Unprocessable.field("date_from", "date_from is after date_to.")
    if survey_id:
        survey = Survey.load(ctx, survey_id)
        if survey.kind != kind:
            raise Unprocessable.field("survey_id", f"The survey is a {survey.kind} survey, not {kind}.")
        scope = survey_scope(survey_id)
    else:
        scope = kind_scope(kind)
    low = date_from.isoformat() if date_from else "0"
    high = (date_to.isoformat() if date_to else "9999") + "#~"
    low_score, high_score = SCALES[kind]
    counts = dict.fromkeys(range(low_score, high_score + 1), 0)
    with storage_errors():
        for stat in SurveyStat.query(
            SurveyStat.partition(ctx.tenant_id, scope), SurveyStat.SK.between(low, high), page_size=1000
        ):
            score = int(stat.SK.rsplit("#", 1)[1])
            counts[score] = counts.get(score, 0) + int(stat.responses)
    return counts


def nps(counts: dict[int, int]) -> NpsSummary:
    total = sum(counts.values())
    promoters = sum(n for score, n in counts.items() if score >= 9)
    detractors = sum(n for score, n in counts.items() if score <= 6)
    return NpsSummary(
        responses=total,
        promoters=promoters,
        passives=total - promoters - detractors,
        detractors=detractors,
        nps=round((promoters - detractors) * 100 / total, 1) if total else None,
    )


def scale(counts: dict[int, int]) -> ScaleSummary:
    total = sum(counts.values())
    average = round(sum(score * n for score, n in counts.items()) / total, 2) if total else None
    return ScaleSummary(
        responses=total, average=average, distribution={str(score): n for score, n in sorted(counts.items())}
    )
