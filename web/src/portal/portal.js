// The client portal: my tickets, and onboarding, knowledge and meeting polls once the API offers them.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";
import { find, loadContract } from "../contract.js";
import { match } from "../router.js";
import { applyBranding, Shell } from "../shell.js";
import { Lazy, Loading } from "../ui.js";
import { TicketDetail } from "../tickets/detail.js";
import { NewTicket, TicketList } from "./tickets.js";

/** Portal features beyond tickets, each shown once its API is there. */
const FEATURES = [
  { label: "Onboarding", href: "/app/portal/onboarding", needs: /^\/onboarding\/processes$/, load: () => import("./onboarding.js") },
  { label: "Knowledge", href: "/app/portal/knowledge", needs: /^\/knowledge\/items$/, load: () => import("./knowledge.js") },
  { label: "Meeting polls", href: "/app/portal/polls", needs: /^\/calendar\/meeting-polls$/, load: () => import("./polls.js") },
];

export default function Portal({ where, user }) {
  const [doc, setDoc] = useState(null);
  const [brand, setBrand] = useState(null);
  useEffect(() => {
    loadContract().then(setDoc, () => setDoc({ paths: {} }));
  }, []);
  useEffect(() => {
    if (!doc) return;
    // the firm's name and colour, where the API lets a client user read them
    const readable = find(doc, "get", /^\/(portal|admin)\/branding$/);
    if (readable) {
      api(readable.path).then((b) => {
        setBrand(b);
        applyBranding(b.branding || b);
      }, () => null);
    }
  }, [doc]);
  const features = doc ? FEATURES.filter((f) => find(doc, "get", f.needs)) : [];
  const links = [{ label: "My tickets", href: "/app/portal/tickets" }, ...features.map((f) => ({ label: f.label, href: f.href }))];
  const path = where.path;
  let page;
  let params;
  if (path === "/app/portal" || path === "/app/portal/tickets") page = html`<${TicketList} where=${where} />`;
  else if (path === "/app/portal/tickets/new") page = html`<${NewTicket} doc=${doc} />`;
  else if ((params = match("/app/portal/tickets/:id", path))) page = html`<${TicketDetail} id=${params.id} user=${user} />`;
  else {
    const feature = features.find((f) => path === f.href || path.startsWith(`${f.href}/`));
    page = feature
      ? html`<${Lazy} load=${feature.load} where=${where} user=${user} doc=${doc} />`
      : doc
        ? html`<h1 tabindex="-1">Not found</h1><p>There is no such page.</p>`
        : html`<${Loading} />`;
  }
  return html`<${Shell} user=${user} name=${brand?.branding?.display_name || brand?.display_name || brand?.name}
    links=${links} where=${where}>${page}<//>`;
}
