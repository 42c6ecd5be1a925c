// Work orders by status, one column each; a card moves on with the action its status allows.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { Link } from "../router.js";
import { Badge, Loading, Problem, useLoad, usePageTitle, when } from "../ui.js";

const COLUMNS = ["new", "assigned", "scheduled", "in_progress", "completed", "cancelled"];
const NEXT = { scheduled: ["start"], assigned: ["start"], in_progress: ["complete"] };
const PER_COLUMN = 50;

export default function Board({ resources }) {
  usePageTitle("Work orders");
  const [columns, error, reload] = useLoad(
    () => Promise.all(COLUMNS.map((status) => api("/field-service/work-orders", { query: { status, limit: PER_COLUMN } }))),
    [],
  );
  const [failure, setFailure] = useState(null);
  const resource = resources.find((r) => r.path === "/field-service/work-orders");
  const open = (order) => `/app/console/resource?${new URLSearchParams({ path: "/field-service/work-orders", id: order.id })}`;
  const act = async (order, verb) => {
    setFailure(null);
    try {
      await api(`/field-service/work-orders/${order.id}/${verb}`, { method: "POST", version: order.version });
      reload();
    } catch (e) {
      setFailure(e);
    }
  };
  return html`<h1 tabindex="-1">Work orders</h1>
    ${resource?.create && html`<p><${Link} class="button primary" href=${`/app/console/resource?path=%2Ffield-service%2Fwork-orders&mode=new`}>New work order<//></p>`}
    <${Problem} error=${error || failure} />
    ${!columns && !error && html`<${Loading} />`}
    ${columns &&
    html`<div class="board">${COLUMNS.map(
      (status, i) => html`<section class="column" aria-labelledby=${`col-${status}`}>
        <h2 id=${`col-${status}`}>${status.replace("_", " ")} <span class="count">${columns[i].items.length}${columns[i].next_cursor ? "+" : ""}</span></h2>
        <ul>${columns[i].items.map(
          (o) => html`<li class="card" key=${o.id}>
            <${Link} href=${open(o)}><span class="number">${o.number}</span> ${o.summary || o.title || o.type}<//>
            <div class="meta"><${Badge} value=${o.priority} kind=${`priority-${o.priority}`} />
              ${o.scheduled_start && html` ${when(o.scheduled_start)}`}</div>
            ${(NEXT[status] || []).map((verb) => html`<button type="button" class="quiet" onClick=${() => act(o, verb)}>
              ${verb}<span class="visually-hidden"> ${o.number}</span></button>`)}
          </li>`,
        )}</ul>
      </section>`,
    )}</div>`}`;
}
