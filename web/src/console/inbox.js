// The ticket inbox: open work first, each ticket with its SLA countdown; filter by status, priority and
// assignee; assign to yourself from the list.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { Link } from "../router.js";
import { SlaBadge } from "../tickets/sla.js";
import { Badge, Loading, Problem, useLoad, usePageTitle, when } from "../ui.js";

const STATUSES = ["new", "open", "pending", "on_hold", "resolved", "closed"];
const PRIORITIES = ["low", "normal", "high", "urgent"];

export default function Inbox({ user }) {
  usePageTitle("Inbox");
  const [filters, setFilters] = useState({ status: "", priority: "", assignee_id: "" });
  const [cursors, setCursors] = useState([undefined]);
  const cursor = cursors[cursors.length - 1];
  const [page, error, , setPage] = useLoad(
    () => api("/support/tickets", { query: { ...filters, limit: 25, cursor } }),
    [JSON.stringify(filters), cursor],
  );
  const [failure, setFailure] = useState(null);
  const set = (name) => (event) => {
    setCursors([undefined]);
    setFilters({ ...filters, [name]: event.currentTarget.value });
  };
  const take = async (ticket) => {
    setFailure(null);
    try {
      const updated = await api(`/support/tickets/${ticket.id}/assign`, {
        method: "POST",
        body: { assignee_id: user.claims.sub, version: ticket.version },
      });
      setPage({ ...page, items: page.items.map((t) => (t.id === updated.id ? updated : t)) });
    } catch (e) {
      setFailure(e);
    }
  };
  return html`<h1 tabindex="-1">Inbox</h1>
    <form class="filters" aria-label="Filters" onSubmit=${(e) => e.preventDefault()}>
      <div class="field"><label for="inbox-status">Status</label>
        <select id="inbox-status" value=${filters.status} onChange=${set("status")}>
          <option value="">Any</option>${STATUSES.map((s) => html`<option value=${s}>${s.replace("_", " ")}</option>`)}</select></div>
      <div class="field"><label for="inbox-priority">Priority</label>
        <select id="inbox-priority" value=${filters.priority} onChange=${set("priority")}>
          <option value="">Any</option>${PRIORITIES.map((p) => html`<option value=${p}>${p}</option>`)}</select></div>
      <div class="field"><label for="inbox-assignee">Assignee</label>
        <select id="inbox-assignee" value=${filters.assignee_id} onChange=${set("assignee_id")}>
          <option value="">Anyone</option><option value=${user.claims.sub}>Me</option></select></div>
    </form>
    <${Problem} error=${error || failure} />
    ${!page && !error && html`<${Loading} />`}
    ${page && page.items.length === 0 && html`<p>No tickets match.</p>`}
    ${page &&
    page.items.length > 0 &&
    html`<div class="table-wrap"><table class="inbox">
      <thead><tr><th scope="col">Ticket</th><th scope="col">Status</th><th scope="col">Priority</th>
        <th scope="col">SLA</th><th scope="col">Assignee</th><th scope="col">Opened</th></tr></thead>
      <tbody>${page.items.map(
        (t) => html`<tr key=${t.id}>
          <td><${Link} href=${`/app/console/tickets/${t.id}`}><span class="number">${t.number}</span> ${t.subject}<//></td>
          <td><${Badge} value=${t.status} /></td>
          <td><${Badge} value=${t.priority} kind=${`priority-${t.priority}`} /></td>
          <td><${SlaBadge} sla=${t.sla} /></td>
          <td>${t.assignee_id === user.claims.sub
            ? "Me"
            : html`${t.assignee_id ? "Someone else " : ""}<button type="button" class="quiet" onClick=${() => take(t)}>
                Take<span class="visually-hidden"> ${t.number}</span></button>`}</td>
          <td>${when(t.created_at)}</td>
        </tr>`,
      )}</tbody></table></div>`}
    <div class="pager">
      ${cursors.length > 1 && html`<button type="button" onClick=${() => setCursors(cursors.slice(0, -1))}>Previous page</button>`}
      ${page?.next_cursor && html`<button type="button" onClick=${() => setCursors([...cursors, page.next_cursor])}>Next page</button>`}
    </div>`;
}
