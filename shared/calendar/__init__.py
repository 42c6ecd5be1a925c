"""The calendar: appointments with RFC 5545 invitations, meeting polls voted by signed link, and meeting
workflows whose executions run exactly once (docs/modules/calendar.md)."""
