// My tickets: the client's requests with a status filter and pages, and the form to open one (knowledge
// articles are suggested while the subject is typed, once the knowledge base is there).
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";
import { find } from "../contract.js";
import { Link, navigate } from "../router.js";
import { upload } from "../tickets/attachments.js";
import { Badge, Field, Loading, Problem, useLoad, usePageTitle, when } from "../ui.js";

const STATUSES = ["new", "open", "pending", "on_hold", "resolved", "closed"];
const SUGGEST_DELAY_MS = 300;

export function TicketList({ where }) {
  const status = where.query.get("status") || "";
  const [cursors, setCursors] = useState([undefined]);
  const cursor = cursors[cursors.length - 1];
  const [page, error] = useLoad(
    () => api("/support/tickets", { query: { status, limit: 20, cursor } }),
    [status, cursor],
  );
  usePageTitle("My tickets");
  const filter = (event) => {
    setCursors([undefined]);
    const value = event.currentTarget.value;
    navigate(`/app/portal/tickets${value ? `?status=${value}` : ""}`, { replace: true });
  };
  return html`<h1 tabindex="-1">My tickets</h1>
    <div class="toolbar">
      <${Link} href="/app/portal/tickets/new" class="button primary">New ticket<//>
      <div class="field inline"><label for="status-filter">Status</label>
        <select id="status-filter" value=${status} onChange=${filter}>
          <option value="">Any</option>
          ${STATUSES.map((s) => html`<option value=${s}>${s.replace("_", " ")}</option>`)}
        </select></div>
    </div>
    <${Problem} error=${error} />
    ${!page && !error && html`<${Loading} />`}
    ${page && page.items.length === 0 && html`<p>No tickets${status ? ` with status ${status}` : ""}.</p>`}
    ${page &&
    page.items.length > 0 &&
    html`<ul class="cards" aria-label="Tickets">
      ${page.items.map(
        (t) => html`<li key=${t.id} class="card">
          <${Link} href=${`/app/portal/tickets/${t.id}`}><span class="number">${t.number}</span> ${t.subject}<//>
          <div class="meta"><${Badge} value=${t.status} /> Updated ${when(t.updated_at)}</div>
        </li>`,
      )}
    </ul>`}
    <div class="pager">
      ${cursors.length > 1 && html`<button type="button" onClick=${() => setCursors(cursors.slice(0, -1))}>Previous page</button>`}
      ${page?.next_cursor && html`<button type="button" onClick=${() => setCursors([...cursors, page.next_cursor])}>Next page</button>`}
    </div>`;
}

/** Published articles matching the subject, from the knowledge search the API offers (if any). */
function Suggestions({ doc, text }) {
  const search = doc && (find(doc, "get", "/knowledge/suggest") || find(doc, "get", "/knowledge/search"));
  const param = search?.op.parameters?.find((p) => p.in === "query" && ["q", "search", "query", "text"].includes(p.name));
  const limited = search?.op.parameters?.some((p) => p.in === "query" && p.name === "limit");
  const [items, setItems] = useState([]);
  useEffect(() => {
    if (!param || text.trim().length < 3) return setItems([]);
    let live = true; // the answer for an older text never replaces a newer one's
    const timer = setTimeout(() => {
      const query = { [param.name]: text.trim(), ...(limited ? { limit: 5 } : {}) };
      api(search.path, { query }).then(
        (found) => live && setItems((found.items || []).slice(0, 5)),
        () => live && setItems([]),
      );
    }, SUGGEST_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [text, param]);
  if (!items.length) return null;
  return html`<aside class="suggestions" aria-live="polite" aria-label="Articles that may help">
    <p>These articles may answer your question:</p>
    <ul>${items.map((a) => html`<li key=${a.id}><${Link} href=${`/app/portal/knowledge/${a.id}`}>${a.title}<//></li>`)}</ul>
  </aside>`;
}

export function NewTicket({ doc }) {
  usePageTitle("New ticket");
  const [subject, setSubject] = useState("");
  const [error, setError] = useState(null);
  const [progress, setProgress] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    setBusy(true);
    setError(null);
    try {
      const ticket = await api("/support/tickets", {
        method: "POST",
        create: true,
        body: { subject: form.subject.value, description: form.description.value, priority: form.priority.value },
      });
      for (const file of form.files.files) {
        setProgress({ name: file.name, done: 0 });
        await upload(`/support/tickets/${ticket.id}/attachments`, file, (done) => setProgress({ name: file.name, done }));
      }
      navigate(`/app/portal/tickets/${ticket.id}`);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  return html`<h1 tabindex="-1">New ticket</h1>
    <form class="card" onSubmit=${submit}>
      <${Problem} error=${error} />
      <${Field} label="Subject" id="ticket-subject" error=${error?.fields?.subject}>${(a) =>
        html`<input ...${a} name="subject" required maxlength="200" value=${subject}
          onInput=${(e) => setSubject(e.currentTarget.value)} />`}<//>
      <${Suggestions} doc=${doc} text=${subject} />
      <${Field} label="Description" id="ticket-description" error=${error?.fields?.description}>${(a) =>
        html`<textarea ...${a} name="description" rows="6" maxlength="20000"></textarea>`}<//>
      <${Field} label="Priority" id="ticket-priority" error=${error?.fields?.priority}>${(a) =>
        html`<select ...${a} name="priority">
          ${["low", "normal", "high", "urgent"].map((p) => html`<option value=${p} selected=${p === "normal"}>${p}</option>`)}
        </select>`}<//>
      <${Field} label="Attachments" id="ticket-files" hint="Optional: screenshots or documents (scanned for viruses).">${(a) =>
        html`<input ...${a} name="files" type="file" multiple />`}<//>
      ${progress &&
      html`<p><label for="create-progress">Uploading ${progress.name}</label>
        <progress id="create-progress" max="1" value=${progress.done}>${Math.round(progress.done * 100)}%</progress></p>`}
      <button type="submit" class="primary" disabled=${busy}>Open ticket</button>
    </form>`;
}
