// The staff console: the hand-built screens (dashboard, ticket inbox, work-order board, and the editors of the
// modules that have them) and the generic screen of every resource the contract lists for the user's role.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";
import { find, loadContract } from "../contract.js";
import { Link, match } from "../router.js";
import { applyBranding, Shell } from "../shell.js";
import { TicketDetail } from "../tickets/detail.js";
import { Lazy, Loading, Problem, title } from "../ui.js";
import { Generic, href } from "./generic.js";
import { resources } from "./resources.js";

/** Screens beyond the generic ones, each shown when its API is there. */
const SCREENS = [
  { label: "Dashboard", href: "/app/console", exact: true, needs: /^\/support\/tickets$/, load: () => import("./dashboard.js") },
  { label: "Inbox", href: "/app/console/inbox", needs: /^\/support\/tickets$/, load: () => import("./inbox.js") },
  { label: "Work orders", href: "/app/console/board", needs: /^\/field-service\/work-orders$/, load: () => import("./board.js") },
  { label: "Knowledge", href: "/app/console/knowledge", needs: /^\/knowledge\/items\/\{[^}]+\}\/versions$/, load: () => import("./knowledge.js") },
  { label: "Segments", href: "/app/console/segments", needs: /^\/marketing\/segments\/fields$/, load: () => import("./segments.js") },
  { label: "Email templates", href: "/app/console/templates", needs: /^\/marketing\/email-templates\/\{[^}]+\}\/preview$/, load: () => import("./templates.js") },
];

function ResourceNav({ list, where }) {
  const groups = {};
  for (const r of list) (groups[r.tag] = groups[r.tag] || []).push(r);
  const current = where.query.get("path");
  return html`<nav class="resources" aria-label="Resources">
    <h2>All resources</h2>
    ${Object.entries(groups).map(
      ([tag, items]) => html`<details open=${items.some((r) => r.path === current)}>
        <summary>${title(tag)}</summary>
        <ul>${items.map((r) => html`<li><${Link} href=${href(r)} aria-current=${r.path === current ? "page" : undefined}>${r.label}<//></li>`)}</ul>
      </details>`,
    )}
  </nav>`;
}

export default function Console({ where, user }) {
  const [doc, setDoc] = useState(null);
  const [error, setError] = useState(null);
  const [settings, setSettings] = useState(null);
  useEffect(() => {
    loadContract().then(setDoc, setError);
    api("/admin/settings").then((s) => {
      setSettings(s);
      applyBranding(s.branding);
    }, () => null);
  }, []);
  if (error) return html`<main id="main"><${Problem} error=${error} /></main>`;
  if (!doc) return html`<main id="main"><${Loading} /></main>`;
  const list = resources(doc, user);
  const screens = SCREENS.filter((s) => find(doc, "get", s.needs));
  const links = screens.map((s) => ({ label: s.label, href: s.href }));
  const path = where.path;
  let page;
  let params;
  const screen = screens.find((s) => (s.exact ? path === s.href : path === s.href || path.startsWith(`${s.href}/`)));
  if ((params = match("/app/console/tickets/:id", path))) page = html`<${TicketDetail} id=${params.id} user=${user} staff=${true} />`;
  else if (path === "/app/console/resource") page = html`<${Generic} doc=${doc} resources=${list} where=${where} />`;
  else if (screen) page = html`<${Lazy} load=${screen.load} doc=${doc} where=${where} user=${user} resources=${list} />`;
  else page = html`<h1 tabindex="-1">Not found</h1><p>There is no such page.</p>`;
  return html`<${Shell} user=${user} name=${settings?.branding?.display_name || settings?.name} links=${links} where=${where}>
    <div class="console">
      <${ResourceNav} list=${list} where=${where} />
      <div class="page">${page}</div>
    </div>
  <//>`;
}
