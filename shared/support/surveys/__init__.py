"""Satisfaction surveys: the survey, the invitation a resolved ticket earns, the one response it
allows, and the running per-day counters the NPS / CSAT / CES summaries read.

``model`` (the stored items and their keys), ``definitions`` (a tenant's surveys: create, list, edit),
``links`` (the signed token of an emailed link), ``invitations`` (the stream consumer's side: who is
invited, once, and the email), ``responses`` (answering, by link or in the portal, and listing answers),
``summaries`` (NPS, CSAT and CES over a date range).

Access patterns (see README): survey by id (GetItem); surveys newest first (GSI1); the newest active
survey sent after an event (GSI2); invitation by id (GetItem), newest invitation of a ticket (GSI3);
response by invitation (GetItem), responses newest first (GSI1), of a survey (GSI2); counters of a
survey or of a kind, per day and score (Query on a date range). Answering writes the response and
its counters in one transaction, so a summary reads days, never responses.
"""
