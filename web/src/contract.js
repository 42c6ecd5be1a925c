// The API's own description (/openapi.json): which operations exist and who may call them. The console is built
// from it, and the portal and link pages show a feature once the API offers it.
import { api } from "./api.js";

let document_ = null;

export function loadContract() {
  document_ = document_ || api("/openapi.json", { auth: false });
  return document_;
}

export const METHODS = ["get", "post", "put", "patch", "delete"];

/** Every operation: {method, path, op}. */
export function operations(doc) {
  const found = [];
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const method of METHODS) if (item[method]) found.push({ method, path, op: item[method] });
  }
  return found;
}

/** Whether `user` may call the operation (x-deskos-roles; null is a public route). */
export function allowed(op, user) {
  const roles = op["x-deskos-roles"];
  if (roles === undefined || roles === null) return true;
  return roles.some((role) => user?.roles.has(role));
}

/** The first operation matching method and a path test, or null. */
export function find(doc, method, test) {
  return operations(doc).find((o) => o.method === method && (typeof test === "string" ? o.path === test : test.test(o.path))) || null;
}

/** A schema with its $ref followed; `anyOf [X, null]` as X with `nullable`. */
export function resolve(doc, schema) {
  if (!schema) return {};
  if (schema.$ref) return resolve(doc, doc.components.schemas[schema.$ref.split("/").pop()]);
  if (schema.anyOf) {
    const kinds = schema.anyOf.filter((s) => s.type !== "null");
    if (kinds.length === 1) {
      const { anyOf, ...rest } = schema;
      return { ...rest, ...resolve(doc, kinds[0]), nullable: kinds.length < schema.anyOf.length };
    }
  }
  return schema;
}

export function requestSchema(doc, op) {
  return resolve(doc, op.requestBody?.content?.["application/json"]?.schema);
}

export function responseSchema(doc, op) {
  const ok = op.responses?.["200"] || op.responses?.["201"];
  return resolve(doc, ok?.content?.["application/json"]?.schema);
}
