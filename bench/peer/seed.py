"""Run by the peer's own interpreter: create the SQLite database with the bench's data (one agent, one queue,
20 tickets) and a logged-in session for the agent; print the session key as JSON.

    <peer venv>/bin/python bench/peer/seed.py     # DESKOS_PEER_DB names the database file
"""

import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk_site.settings")

import django

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from helpdesk.models import Queue, Ticket  # noqa: E402

TICKETS = 20

call_command("migrate", verbosity=0)
agent = get_user_model().objects.create_user(
    "agent", "agent@bench.example", password=None, is_staff=True, is_superuser=True
)
queue = Queue.objects.create(title="Support", slug="support")
for n in range(TICKETS):
    Ticket.objects.create(queue=queue, title=f"Printer on fire #{n + 1}", description="It smokes.", assigned_to=agent)
session = SessionStore()
session[SESSION_KEY] = str(agent.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = agent.get_session_auth_hash()
session.create()
print(json.dumps({"session": session.session_key, "queue": queue.pk}))
