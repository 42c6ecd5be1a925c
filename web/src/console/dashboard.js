// The dashboard: tickets opened and resolved per day, SLA breaches, NPS and CSAT by week, work orders by status,
// uploads by scan outcome per day, drawn from the API's summaries, which read counters kept exact by the writes
// (each chart also as a table for screen readers). A summary the contract lacks leaves its tile out.
import { html } from "htm/preact";
import { api } from "../api.js";
import { find } from "../contract.js";
import { Loading, Problem, useLoad, usePageTitle } from "../ui.js";

const DAYS = 14;
const WEEKS = 6;
const DAY_MS = 86400000;
const WORK_ORDER_STATUSES = ["new", "assigned", "scheduled", "in_progress", "completed", "cancelled"];

function lastDays() {
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  return Array.from({ length: DAYS }, (_, i) => new Date(today - (DAYS - 1 - i) * DAY_MS).toISOString().slice(0, 10));
}

/** Bars for one or more series over the same labels; `series`: [{name, values, className}]. */
function Bars({ label, labels, series, min = 0 }) {
  const all = series.flatMap((s) => s.values.filter((v) => v !== null));
  const max = Math.max(1, ...all);
  const low = Math.min(min, ...all);
  const width = 600;
  const height = 160;
  const slot = width / labels.length;
  const bar = (slot * 0.8) / series.length;
  const y = (v) => height - ((v - low) / (max - low || 1)) * height;
  return html`<figure class="chart">
    <svg viewBox=${`0 -10 ${width} ${height + 30}`} role="img" aria-label=${label}>
      <line x1="0" x2=${width} y1=${y(Math.max(0, low))} y2=${y(Math.max(0, low))} class="axis" />
      ${labels.map((l, i) =>
        series.map((s, k) =>
          s.values[i] === null
            ? null
            : html`<rect class=${s.className} x=${i * slot + slot * 0.1 + k * bar} width=${bar - 1}
                y=${Math.min(y(s.values[i]), y(Math.max(0, low)))} height=${Math.abs(y(s.values[i]) - y(Math.max(0, low))) || 1} />`,
        ),
      )}
      ${labels.map((l, i) => (i % Math.ceil(labels.length / 7) === 0 ? html`<text x=${i * slot + 2} y=${height + 16}>${l.slice(5)}</text>` : null))}
    </svg>
    <figcaption>${label}
      <span class="legend">${series.map((s) => html`<span class=${`key ${s.className}`}>${s.name}</span>`)}</span></figcaption>
    <table class="visually-hidden"><caption>${label}</caption>
      <thead><tr><th scope="col">Period</th>${series.map((s) => html`<th scope="col">${s.name}</th>`)}</tr></thead>
      <tbody>${labels.map((l, i) => html`<tr><th scope="row">${l}</th>${series.map((s) => html`<td>${s.values[i] ?? "–"}</td>`)}</tr>`)}</tbody>
    </table>
  </figure>`;
}

const TICKET_SUMMARY = "/support/tickets/summary";
const WORK_ORDER_COUNTS = "/field-service/work-orders/status-counts";

/** Tickets opened, resolved and SLA breaches per UTC day over the last DAYS days (the tickets' day counters). */
function ticketFigures(doc) {
  if (!find(doc, "get", TICKET_SUMMARY)) return Promise.resolve(null);
  const days = lastDays();
  return api(TICKET_SUMMARY, { query: { date_from: days[0], date_to: days[DAYS - 1] } });
}

async function surveyFigures(doc) {
  const weeks = Array.from({ length: WEEKS }, (_, i) => {
    const end = new Date(Date.now() - (WEEKS - 1 - i) * 7 * DAY_MS);
    const start = new Date(end.getTime() - 6 * DAY_MS);
    return { from: start.toISOString().slice(0, 10), to: end.toISOString().slice(0, 10) };
  });
  const summary = (kind) =>
    find(doc, "get", `/support/survey-responses/${kind}-summary`)
      ? Promise.all(weeks.map((w) => api(`/support/survey-responses/${kind}-summary`, { query: { date_from: w.from, date_to: w.to } })))
      : Promise.resolve(null);
  const [nps, csat] = await Promise.all([summary("nps"), summary("csat")]);
  return { weeks: weeks.map((w) => w.to), nps, csat };
}

/** How many work orders are in each status now (the work orders' status counts). */
async function workOrderFigures(doc) {
  if (!find(doc, "get", WORK_ORDER_COUNTS)) return null;
  const counts = await api(WORK_ORDER_COUNTS);
  return WORK_ORDER_STATUSES.map((status) => counts[status]);
}

const SCAN_SUMMARY = "/attachments/scan-summary";

/** Uploads judged clean, infected and rejected per UTC day over the last DAYS days (the scan's day counters). */
function UploadsTile({ doc }) {
  const load = () => {
    if (!find(doc, "get", SCAN_SUMMARY)) return Promise.resolve(null);
    const days = lastDays();
    return api(SCAN_SUMMARY, { query: { date_from: days[0], date_to: days[DAYS - 1] } });
  };
  const [summary, error] = useLoad(load, []);
  if (summary === null) return null;
  const days = (summary?.days || []).map((d) => d.day);
  const of = (outcome) => (summary?.days || []).map((d) => d[outcome]);
  return html`<section class="card tile" aria-labelledby="tile-uploads">
    <h2 id="tile-uploads">Uploads scanned, last ${DAYS} days</h2>
    <${Problem} error=${error} />
    ${!summary && !error && html`<${Loading} />`}
    ${summary &&
    html`<p class="figure"><strong>${summary.clean}</strong> clean${" · "}
        <strong class=${summary.infected ? "bad" : ""} data-testid="uploads-infected">${summary.infected}</strong> infected${" · "}
        <strong>${summary.rejected}</strong> rejected</p>
      <${Bars} label="Uploads per day by scan outcome" labels=${days}
        series=${[
          { name: "Clean", values: of("clean"), className: "series-b" },
          { name: "Infected", values: of("infected"), className: "series-bad" },
          { name: "Rejected", values: of("rejected"), className: "series-muted" },
        ]} />`}
  </section>`;
}

export default function Dashboard({ doc }) {
  usePageTitle("Dashboard");
  const [tickets, ticketsError] = useLoad(() => ticketFigures(doc), []);
  const [surveys, surveysError] = useLoad(() => surveyFigures(doc), []);
  const [orders, ordersError] = useLoad(() => workOrderFigures(doc), []);
  return html`<h1 tabindex="-1">Dashboard</h1>
    <div class="tiles">
      ${(tickets !== null || ticketsError) &&
      html`<section class="card tile" aria-labelledby="tile-tickets">
        <h2 id="tile-tickets">Tickets, last ${DAYS} days</h2>
        <${Problem} error=${ticketsError} />
        ${!tickets && !ticketsError && html`<${Loading} />`}
        ${tickets &&
        html`<p class="figure"><strong data-testid="tickets-opened">${tickets.opened}</strong> opened${" · "}
            <strong data-testid="tickets-resolved">${tickets.resolved}</strong> resolved${" · "}
            <strong class=${tickets.breached ? "bad" : ""} data-testid="tickets-breached">${tickets.breached}</strong> SLA ${tickets.breached === 1 ? "breach" : "breaches"}</p>
          <${Bars} label="Tickets opened and resolved per day" labels=${tickets.days.map((d) => d.day)}
            series=${[
              { name: "Opened", values: tickets.days.map((d) => d.opened), className: "series-a" },
              { name: "Resolved", values: tickets.days.map((d) => d.resolved), className: "series-b" },
            ]} />`}
      </section>`}
      <section class="card tile" aria-labelledby="tile-surveys">
        <h2 id="tile-surveys">Satisfaction by week</h2>
        <${Problem} error=${surveysError} />
        ${!surveys && !surveysError && html`<${Loading} />`}
        ${surveys?.nps &&
        html`<p class="figure">NPS this week: <strong data-testid="nps-now">${surveys.nps[WEEKS - 1].nps === null ? "no answers" : Math.round(surveys.nps[WEEKS - 1].nps)}</strong>
            ${" "}(${surveys.nps[WEEKS - 1].responses} ${surveys.nps[WEEKS - 1].responses === 1 ? "response" : "responses"})</p>
          <${Bars} label="NPS per week (−100 to 100)" labels=${surveys.weeks} min=${-10}
            series=${[{ name: "NPS", values: surveys.nps.map((s) => s.nps), className: "series-a" }]} />`}
        ${surveys?.csat &&
        html`<${Bars} label="CSAT average per week (1 to 5)" labels=${surveys.weeks}
          series=${[{ name: "CSAT", values: surveys.csat.map((s) => s.average), className: "series-b" }]} />`}
      </section>
      ${(orders !== null || ordersError) &&
      html`<section class="card tile" aria-labelledby="tile-orders">
        <h2 id="tile-orders">Work orders by status</h2>
        <${Problem} error=${ordersError} />
        ${!orders && !ordersError && html`<${Loading} />`}
        ${orders &&
        html`<${Bars} label="Work orders by status" labels=${WORK_ORDER_STATUSES.map((s) => `     ${s.replace("_", " ")}`)}
          series=${[{ name: "Work orders", values: orders, className: "series-a" }]} />`}
      </section>`}
      <${UploadsTile} doc=${doc} />
    </div>`;
}
