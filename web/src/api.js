// The API, as any client calls it: the user's id token, JSON in and out, RFC 9457 problems as errors.
import { idToken, signOut } from "./auth.js";
import { config } from "./config.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `The request failed (${status}).`);
    this.status = status;
    this.problem = problem || {};
    // field path ("branding.colour") → message
    this.fields = Object.fromEntries((this.problem.errors || []).map((e) => [e.field, e.message]));
  }
}

export function url(path, query) {
  const base = config()?.apiUrl || "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") params.append(name, value);
  }
  const search = params.toString();
  return `${base}${path}${search ? `?${search}` : ""}`;
}

/**
 * `create: true` sends an Idempotency-Key, so a retried create makes one resource; `version` is sent as
 * If-Match; `auth: false` for the pages behind emailed links.
 */
export async function api(path, { method = "GET", query, body, create = false, version, auth = true } = {}) {
  const headers = { Accept: "application/json, application/problem+json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (create) headers["Idempotency-Key"] = crypto.randomUUID();
  if (version !== undefined && version !== null) headers["If-Match"] = `"${version}"`;
  const send = async (force) => {
    if (auth) {
      const token = await idToken({ force });
      if (!token) throw new ApiError(401, { title: "Signed out", detail: "Please sign in again." });
      headers.Authorization = `Bearer ${token}`;
    }
    return fetch(url(path, query), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  };
  let response = await send(false);
  if (response.status === 401 && auth) {
    response = await send(true); // a token revoked or expired early: refresh once
    if (response.status === 401) await signOut();
  }
  if (response.status === 204) return null;
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Every page of a list, up to `max` items (charts and boards count what they show). */
export async function collect(path, query = {}, max = 500) {
  const items = [];
  let cursor;
  do {
    const page = await api(path, { query: { ...query, limit: 100, cursor } });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return { items, more: Boolean(cursor) };
}
