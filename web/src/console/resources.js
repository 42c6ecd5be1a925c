// The console's resources, read from the API's contract: a collection path (no parameters) with its list and
// create, its item path (one more {parameter}) with read, edit, delete, the item's actions (POST or PUT on one more
// word) and related lists (GET lists under the item). A new module's routes appear here with no front-end work.
import { allowed, operations, requestSchema, resolve, responseSchema } from "../contract.js";
import { title } from "../ui.js";

const HIDDEN = new Set(["/me", "/openapi.json", "/docs"]);
const PAGING = new Set(["limit", "cursor"]);

export function isPage(doc, op) {
  const schema = responseSchema(doc, op);
  return Boolean(schema.properties?.items && "next_cursor" in (schema.properties || {}));
}

export function itemSchema(doc, listOp) {
  return resolve(doc, responseSchema(doc, listOp).properties.items.items);
}

export function filtersOf(op) {
  return (op.parameters || []).filter((p) => p.in === "query" && !PAGING.has(p.name) && p.name !== "token");
}

const single = (word) => word.replace(/ies$/, "y").replace(/(ss|x|ch|sh)es$/, "$1").replace(/s$/, "");

/** Every resource the user may see, grouped by the API's tag (module). */
export function resources(doc, user) {
  const ops = operations(doc).filter((o) => o.op["x-deskos-roles"] != null);
  const at = (method, path) => ops.find((o) => o.method === method && o.path === path);
  const found = [];
  for (const path of new Set(ops.map((o) => o.path))) {
    if (path.includes("{") || HIDDEN.has(path)) continue;
    const list = at("get", path);
    const posted = at("post", path);
    const create = posted && posted.op["x-deskos-writes"] ? posted : null; // a POST that writes nothing is a query
    if (!list && !create) continue;
    const kind = list && !isPage(doc, list.op) ? "view" : "collection";
    const itemPath = ops.map((o) => o.path).find((p) => p.startsWith(`${path}/{`) && p.split("/").length === path.split("/").length + 1);
    const item = itemPath && {
      path: itemPath,
      read: at("get", itemPath),
      replace: at("put", itemPath),
      patch: at("patch", itemPath),
      remove: at("delete", itemPath),
    };
    const depth = itemPath ? itemPath.split("/").length + 1 : 0;
    const under = itemPath ? ops.filter((o) => o.path.startsWith(`${itemPath}/`) && o.path.split("/").length === depth && !o.path.endsWith("}")) : [];
    const actions = under.filter((o) => o.method === "post" || o.method === "put").filter((o) => !at("get", o.path) || o.method === "put");
    const related = under.filter((o) => o.method === "get" && isPage(doc, o.op));
    const words = path.split("/").filter(Boolean);
    const visible = (list && allowed(list.op, user)) || (create && allowed(create.op, user));
    if (!visible) continue;
    found.push({
      path,
      kind,
      tag: (list || create).op.tags?.[0] || words[0],
      label: title(words[words.length - 1]),
      noun: single(title(words[words.length - 1])).toLowerCase(),
      list,
      create: create && allowed(create.op, user) ? create : null,
      replace: kind === "view" ? at("put", path) : null,
      item,
      actions: actions.filter((a) => allowed(a.op, user)),
      related: related.filter((r) => allowed(r.op, user)),
    });
  }
  return found.sort((a, b) => a.tag.localeCompare(b.tag) || a.path.localeCompare(b.path));
}

/** The item path with its one parameter filled. */
export function fill(path, id) {
  return path.replace(/\{[^}]+\}/, encodeURIComponent(id));
}

export function bodySchema(doc, found) {
  return found ? requestSchema(doc, found.op) : {};
}

/** A few telling columns of an item schema for a table. */
export function columns(schema) {
  const scalar = Object.entries(schema.properties || {}).filter(([, s]) => {
    const t = s.type || (s.anyOf || []).map((x) => x.type).find((x) => x && x !== "null");
    return ["string", "integer", "number", "boolean"].includes(t);
  });
  const names = scalar.map(([n]) => n);
  const preferred = ["number", "name", "title", "subject", "email", "status", "kind", "role", "priority", "type", "active", "created_at"];
  const chosen = preferred.filter((n) => names.includes(n));
  for (const n of names) if (chosen.length < 3 && n !== "version" && !chosen.includes(n)) chosen.push(n);
  if (!chosen.length && names.includes("id")) chosen.push("id");
  return chosen.slice(0, 6);
}
