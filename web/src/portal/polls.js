// My meeting polls: the polls that invite me (whatever their client), each open one with a ballot for me
// (signed in: `…/my-vote`).
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { Ballot, votesBody } from "../links/vote.js";
import { Badge, Loading, Notice, Problem, useLoad, usePageTitle, when } from "../ui.js";

function Poll({ poll }) {
  const [error, setError] = useState(null);
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);
  const me = poll.invitees.find((i) => i.you);
  const open = poll.status === "open" && new Date(poll.deadline) > new Date();
  const vote = async (choices) => {
    setBusy(true);
    setError(null);
    try {
      await api(`/calendar/meeting-polls/${poll.id}/my-vote`, { method: "POST", body: votesBody(poll, choices) });
      setSent(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="card" aria-label=${poll.title}>
    <h2>${poll.title} <${Badge} value=${poll.status} /></h2>
    <p class="meta">${poll.organizer.name} · ${poll.duration_minutes} minutes ·
      ${open ? `voting closes ${when(poll.deadline)}` : "voting has closed"}</p>
    <${Problem} error=${error} />
    ${sent ? html`<${Notice}>Your vote was recorded: you can change it until the poll closes.<//>` : me?.voted && html`<p>You have voted: send again to change your vote.</p>`}
    ${open && me && html`<${Ballot} poll=${poll} onVote=${vote} busy=${busy} />`}
  </section>`;
}

export default function Polls() {
  usePageTitle("Meeting polls");
  const [page, error] = useLoad(() => api("/calendar/meeting-polls", { query: { limit: 50 } }), []);
  return html`<h1 tabindex="-1">Meeting polls</h1><${Problem} error=${error} />
    ${!page && !error && html`<${Loading} />`}
    ${page && page.items.length === 0 && html`<p>No meeting polls for you.</p>`}
    ${(page?.items || []).map((p) => html`<${Poll} key=${p.id} poll=${p} />`)}`;
}
