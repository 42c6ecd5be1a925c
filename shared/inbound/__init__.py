"""Email-to-ticket: a tenant's mailbox (``mailbox``), parsing (``message``), quotes (``quoting``), and what a
message makes (``intake``)."""

INBOUND_PREFIX = "inbound/"  # where raw messages are stored (S3), before their tenant is known: no tenant data
