// Pages behind emailed links: the token in the address is the only credential. Its payload (signed by the
// server, readable by anyone) may carry what the page needs to show before answering, such as a survey's scale.
import { html } from "htm/preact";

export function tokenOf(where) {
  return where.query.get("token") || "";
}

export function claims(token) {
  try {
    const body = token.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(decodeURIComponent(escape(atob(body.padEnd(body.length + ((4 - (body.length % 4)) % 4), "=")))));
  } catch {
    return null;
  }
}

/** The frame of a page behind a link: no navigation, the page's heading, its content. */
export function LinkPage({ heading, children }) {
  return html`<main id="main" class="narrow link-page">
    <h1 tabindex="-1">${heading}</h1>
    ${children}
  </main>`;
}

export function explain(error) {
  if (error.status === 409) return "already";
  if (error.status === 422 && /expired/i.test(error.message)) return "expired";
  if (error.status === 422 || error.status === 404) return "invalid";
  return "failed";
}

export const TEXTS = {
  expired: "This link has expired.",
  invalid: "This link is not valid: it may have been copied incompletely.",
  failed: "Something went wrong: please try again in a moment.",
};

/** The public (token) operation of `method` whose path matches `test`, from the API's contract. */
export function publicOperation(doc, method, test) {
  for (const [path, item] of Object.entries(doc.paths || {})) {
    const op = item[method];
    if (op && op["x-deskos-roles"] == null && test.test(path)) return { path, op };
  }
  return null;
}

/** Where the operation takes the token: its query parameter, or else a body field. */
export function withToken(found, token, body) {
  const inQuery = found.op.parameters?.some((p) => p.in === "query" && p.name === "token");
  return inQuery ? { query: { token }, body } : { body: { ...(body || {}), token } };
}
