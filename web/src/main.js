// The app's entry: loads config.json, then the page for the address. Each page is its own chunk, loaded when
// opened; the pages behind emailed links need no sign-in.
import { html } from "htm/preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { currentUser, onSessionChange } from "./auth.js";
import { loadConfig } from "./config.js";
import { BASE, home, match, navigate, useLocation } from "./router.js";
import { Lazy, Loading } from "./ui.js";

const PUBLIC = {
  "/app/survey": () => import("./links/survey.js"),
  "/app/vote": () => import("./links/vote.js"),
  "/app/unsubscribe": () => import("./links/unsubscribe.js"),
  "/app/upload": () => import("./links/upload.js"),
  "/app/sign-in": () => import("./signin.js"),
};
const AREAS = [
  { prefix: "/app/portal", role: "portal", load: () => import("./portal/portal.js") },
  { prefix: "/app/console", role: "staff", load: () => import("./console/console.js") },
];

/** Addresses emails use for everyone (a ticket's page): each role's own page of the same thing. */
function sharedPage(path, user) {
  const ticket = match(`${BASE}/tickets/:id`, path);
  if (!ticket) return null;
  const area = user.roles.has("staff") ? "console" : "portal";
  return `${BASE}/${area}/tickets/${encodeURIComponent(ticket.id)}`;
}

const MAIN_LOADING = html`<main id="main"><${Loading} /></main>`;

function App() {
  const where = useLocation();
  const [user, setUser] = useState(currentUser);
  useEffect(() => onSessionChange(() => setUser(currentUser())), []);
  const page = PUBLIC[where.path];
  const area = AREAS.find((a) => where.path === a.prefix || where.path.startsWith(`${a.prefix}/`));
  const allowed = area && user?.roles.has(area.role);
  useEffect(() => {
    if (!page && !allowed) {
      const next = user
        ? sharedPage(where.path, user) || home(user)
        : `${BASE}/sign-in?next=${encodeURIComponent(where.path + location.search)}`;
      if (next !== where.path) navigate(next, { replace: true });
    }
  }, [page, allowed, user, where.path]);
  if (page) return html`<${Lazy} load=${page} where=${where} user=${user} fallback=${MAIN_LOADING} />`;
  if (!allowed) {
    if (user && !user.roles.has("staff") && !user.roles.has("portal")) {
      return html`<main id="main"><h1 tabindex="-1">No access</h1><p>Your account has no role in DeskOS yet.</p></main>`;
    }
    return null;
  }
  return html`<${Lazy} load=${area.load} where=${where} user=${user} fallback=${MAIN_LOADING} />`;
}

loadConfig().then(
  () => {
    const root = document.getElementById("root");
    root.textContent = ""; // the "Loading…" line of index.html
    render(html`<${App} />`, root);
  },
  (error) => {
    document.getElementById("root").textContent = `DeskOS could not start: ${error.message}`;
  },
);
