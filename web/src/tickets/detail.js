// One ticket, for its client (public comments, reply, close/reopen, attachments) and for staff (internal notes,
// assignment, resolve, priority and status).
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { Badge, Field, Loading, Problem, uid, useLoad, usePageTitle, when } from "../ui.js";
import { Attachments } from "./attachments.js";
import { SlaBadge } from "./sla.js";

const REOPENABLE = new Set(["resolved", "closed"]);

function Comments({ ticket, staff, onSending, onSent }) {
  const path = `/support/tickets/${ticket.id}/comments`;
  const [page, error, reload] = useLoad(() => api(path, { query: { limit: 100 } }), [ticket.id]);
  const [failure, setFailure] = useState(null);
  const [busy, setBusy] = useState(false);
  const bodyId = uid("reply");
  const send = async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    setBusy(true);
    onSending(true); // a reply moves the ticket on: its actions wait from the moment it is sent
    setFailure(null);
    try {
      const body = { body: form.body.value };
      if (staff) body.public = !form.internal.checked;
      await api(path, { method: "POST", body, create: true });
      form.reset();
      reload();
      onSent(); // a reply can move the ticket on (its status, its SLA clock): read its new version
    } catch (e) {
      setFailure(e);
    } finally {
      setBusy(false);
      onSending(false);
    }
  };
  return html`<section aria-labelledby="comments-heading">
    <h2 id="comments-heading">Conversation</h2>
    <${Problem} error=${error} />
    ${page && page.items.length === 0 && html`<p>No replies yet.</p>`}
    <ol class="comments">
      ${(page?.items || []).map(
        (c) => html`<li key=${c.id} class=${c.public ? "" : "internal"}>
          <div class="meta">${c.author_kind === "staff" ? "Support" : "Client"} · ${when(c.created_at)}
            ${!c.public && html` · <${Badge} value="internal note" kind="internal" />`}</div>
          <p class="body">${c.body}</p>
        </li>`,
      )}
    </ol>
    <form onSubmit=${send} class="reply">
      <${Problem} error=${failure} />
      <${Field} label="Your reply" id=${bodyId} error=${failure?.fields?.body}>${(a) =>
        html`<textarea ...${a} name="body" rows="4" required maxlength="20000"></textarea>`}<//>
      ${staff && html`<label class="check"><input type="checkbox" name="internal" /> Internal note (not shown to the client)</label>`}
      <button type="submit" class="primary" disabled=${busy}>Send reply</button>
    </form>
  </section>`;
}

/** Runs one action on the ticket at a time: [settle(request), acting, error]. A 409 (the ticket moved on meanwhile, or
 * its state forbids it) reads the ticket again, so the next try sends the version the server has. */
function useSettle(onChange, onStale) {
  const [error, setError] = useState(null);
  const [acting, setActing] = useState(false);
  const settle = async (request) => {
    setError(null);
    setActing(true);
    try {
      onChange(await request());
    } catch (e) {
      setError(e);
      if (e.status === 409) onStale();
    } finally {
      setActing(false);
    }
  };
  return [settle, acting, error];
}

function StaffControls({ ticket, user, onChange, onStale, stale }) {
  const [settle, acting, error] = useSettle(onChange, onStale);
  const [users, usersError] = useLoad(
    () => (user.roles.has("managers") ? api("/admin/users", { query: { limit: 100 } }) : Promise.resolve(null)),
    [],
  );
  const act = (path, body) =>
    settle(() => api(`/support/tickets/${ticket.id}${path}`, { method: "POST", body, version: body ? undefined : ticket.version }));
  const patch = (field, value) =>
    settle(() => api(`/support/tickets/${ticket.id}`, { method: "PATCH", body: { [field]: value, version: ticket.version } }));
  // each action sends the version shown: none while one is under way or the ticket is being read again
  const busy = acting || stale;
  const staffUsers = (users?.items || []).filter((u) => u.active && (u.role === "staff" || u.role === "managers"));
  const assigneeId = uid("assignee");
  const priorityId = uid("priority");
  return html`<section class="card controls" aria-label="Ticket actions">
    <${Problem} error=${error || usersError} />
    <div class="row">
      ${staffUsers.length > 0
        ? html`<div class="field"><label for=${assigneeId}>Assignee</label>
            <select id=${assigneeId} value=${ticket.assignee_id || ""} disabled=${busy}
              onChange=${(e) => act("/assign", { assignee_id: e.currentTarget.value || null, version: ticket.version })}>
              <option value="">Unassigned</option>
              ${staffUsers.map((u) => html`<option value=${u.id}>${u.name} (${u.email})</option>`)}
            </select></div>`
        : null}
      ${ticket.assignee_id !== user.claims.sub &&
      html`<button type="button" disabled=${busy} onClick=${() => act("/assign", { assignee_id: user.claims.sub, version: ticket.version })}>Assign to me</button>`}
      <div class="field"><label for=${priorityId}>Priority</label>
        <select id=${priorityId} value=${ticket.priority} disabled=${busy} onChange=${(e) => patch("priority", e.currentTarget.value)}>
          ${["low", "normal", "high", "urgent"].map((p) => html`<option value=${p}>${p}</option>`)}
        </select></div>
      ${!REOPENABLE.has(ticket.status) && html`<button type="button" class="primary" disabled=${busy} onClick=${() => act("/resolve")}>Resolve</button>`}
      ${ticket.status !== "closed" && html`<button type="button" disabled=${busy} onClick=${() => act("/close")}>Close</button>`}
      ${REOPENABLE.has(ticket.status) && html`<button type="button" disabled=${busy} onClick=${() => act("/reopen")}>Reopen</button>`}
    </div>
  </section>`;
}

function ClientControls({ ticket, onChange, onStale, stale }) {
  const [settle, acting, error] = useSettle(onChange, onStale);
  const act = (verb) => settle(() => api(`/support/tickets/${ticket.id}/${verb}`, { method: "POST", version: ticket.version }));
  const busy = acting || stale; // as for staff: only ever the version shown, and only the latest
  return html`<div class="row">
    <${Problem} error=${error} />
    ${ticket.status !== "closed" && html`<button type="button" disabled=${busy} onClick=${() => act("close")}>Close this request</button>`}
    ${REOPENABLE.has(ticket.status) && html`<button type="button" disabled=${busy} onClick=${() => act("reopen")}>Reopen</button>`}
  </div>`;
}

export function TicketDetail({ id, user, staff = false }) {
  // a reply moves the ticket on (a new version): its actions wait until it has been read again
  const [ticket, error, reload, setTicket, rereading] = useLoad(() => api(`/support/tickets/${id}`), [id]);
  const [replying, setReplying] = useState(false);
  const stale = rereading || replying;
  usePageTitle(ticket ? `${ticket.number} ${ticket.subject}` : "Ticket");
  if (error) return html`<h1 tabindex="-1">Ticket</h1><${Problem} error=${error} />`;
  if (!ticket) return html`<${Loading} />`;
  return html`<article class="ticket">
    <h1 tabindex="-1"><span class="number">${ticket.number}</span> ${ticket.subject}</h1>
    <p class="meta">
      <${Badge} value=${ticket.status} /> <${Badge} value=${ticket.priority} kind=${`priority-${ticket.priority}`} />
      ${staff && html` <${SlaBadge} sla=${ticket.sla} />`}
      <span> Opened ${when(ticket.created_at)}</span>
    </p>
    ${ticket.description && html`<p class="description">${ticket.description}</p>`}
    ${staff
      ? html`<${StaffControls} ticket=${ticket} user=${user} onChange=${setTicket} onStale=${reload} stale=${stale} />`
      : html`<${ClientControls} ticket=${ticket} onChange=${setTicket} onStale=${reload} stale=${stale} />`}
    <${Comments} ticket=${ticket} staff=${staff} onSending=${setReplying} onSent=${reload} />
    <${Attachments} collection=${`/support/tickets/${ticket.id}/attachments`} publicChoice=${staff} />
  </article>`;
}
