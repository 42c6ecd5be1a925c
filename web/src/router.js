// History routing under /app/: links change the address without reloading the app.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";

export const BASE = "/app";
const listeners = new Set();

export function navigate(to, { replace = false } = {}) {
  history[replace ? "replaceState" : "pushState"](null, "", to);
  listeners.forEach((listener) => listener());
}

function here() {
  return { path: location.pathname.replace(/\/+$/, "") || BASE, query: new URLSearchParams(location.search) };
}

export function useLocation() {
  const [where, setWhere] = useState(here);
  useEffect(() => {
    const update = () => {
      setWhere(here());
      window.scrollTo(0, 0);
    };
    listeners.add(update);
    addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      removeEventListener("popstate", update);
    };
  }, []);
  return where;
}

/** Matches "/app/portal/tickets/:id" against a path: the named parts, or null. */
export function match(pattern, path) {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return null;
  const found = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(":")) found[want[i].slice(1)] = decodeURIComponent(got[i]);
    else if (want[i] !== got[i]) return null;
  }
  return found;
}

export function Link({ href, children, ...rest }) {
  const follow = (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${follow} ...${rest}>${children}</a>`;
}

/** Where a user lands: staff in the console, client users in the portal. */
export function home(user) {
  if (user?.roles.has("staff")) return `${BASE}/console`;
  if (user?.roles.has("portal")) return `${BASE}/portal/tickets`;
  return `${BASE}/sign-in`;
}
