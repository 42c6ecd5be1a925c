"""`deskos up` keeps its data between runs (SIGTERM saves it), and `--fresh` starts empty."""

from __future__ import annotations

AGENT = "agent@demo.deskos.local"
PORTAL = "portal@acme.example"


def test_data_and_logins_survive_a_restart_and_fresh_starts_empty(api_for, login, start_cloud, tmp_path):
    # Given a local cloud of its own, where the portal user opened a ticket
    first = start_cloud(tmp_path, fresh=True)
    ticket = api_for(first).create_ticket(login(first.details, PORTAL), subject="Kept across restarts")

    # When it is stopped and started again on the same state dir
    first.stop_cleanly()
    second = start_cloud(tmp_path, fresh=False)

    # Then the demo users still log in, and the ticket is there, number and all
    agent = login(second.details, AGENT)
    kept = api_for(second).get(f"/support/tickets/{ticket['id']}", as_=agent)
    assert kept.status_code == 200, kept.text
    assert (kept.json()["number"], kept.json()["subject"]) == (ticket["number"], "Kept across restarts")
    by_number = api_for(second).get(f"/support/tickets/by-number/{ticket['number']}", as_=agent)
    assert by_number.status_code == 200, by_number.text

    # When it is restarted with --fresh
    second.stop_cleanly()
    third = start_cloud(tmp_path, fresh=True)

    # Then the demo users are seeded again, and the ticket is gone
    agent = login(third.details, AGENT)
    gone = api_for(third).get(f"/support/tickets/{ticket['id']}", as_=agent)
    assert gone.status_code == 404, gone.text
    assert api_for(third).ticket_ids(agent) == []
    third.stop_cleanly()
