// The generic screens of a resource, built from the contract: the list (the operation's filters, pages), an item
// (every field, the actions the user's role may take, the related lists), and create and edit forms.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { resolve } from "../contract.js";
import { Link, navigate } from "../router.js";
import { Badge, Field, Loading, Problem, title, useLoad, usePageTitle, when } from "../ui.js";
import { bodyOf, initialState, SchemaForm } from "./form.js";
import { bodySchema, columns, fill, filtersOf, itemSchema } from "./resources.js";

export const href = (resource, extra = {}) =>
  `/app/console/resource?${new URLSearchParams({ path: resource.path, ...extra }).toString()}`;

function Value({ value, name }) {
  if (value === null || value === undefined || value === "") return html`<span class="muted">—</span>`;
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "object") return html`<pre>${JSON.stringify(value, null, 2)}</pre>`;
  if (name === "status" || name === "state") return html`<${Badge} value=${value} />`;
  if (/_at$/.test(name || "") && !Number.isNaN(Date.parse(value))) return html`<time datetime=${value}>${when(value)}</time>`;
  return String(value);
}

function FilterInput({ doc, parameter, value, onChange }) {
  const s = resolve(doc, parameter.schema);
  const id = `filter-${parameter.name}`;
  const label = title(parameter.name);
  return html`<${Field} label=${label} id=${id}>${(a) => {
    if (s.enum) {
      return html`<select ...${a} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
        <option value="">Any</option>${s.enum.map((o) => html`<option value=${o}>${o}</option>`)}</select>`;
    }
    if (s.type === "boolean") {
      return html`<select ...${a} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
        <option value="">Any</option><option value="true">yes</option><option value="false">no</option></select>`;
    }
    const type = s.format === "date-time" ? "datetime-local" : s.format === "date" ? "date" : "text";
    const shown = type === "datetime-local" && value ? value.slice(0, 16) : value;
    return html`<input ...${a} type=${type} value=${shown}
      onChange=${(e) => onChange(type === "datetime-local" && e.currentTarget.value ? new Date(e.currentTarget.value).toISOString() : e.currentTarget.value)} />`;
  }}<//>`;
}

/** A list operation as a table: its filters, a page at a time. */
export function ListOf({ doc, op, path, open, heading, level = 2 }) {
  const filters = filtersOf(op.op);
  const [values, setValues] = useState({});
  const [cursors, setCursors] = useState([undefined]);
  const cursor = cursors[cursors.length - 1];
  const [page, error] = useLoad(() => api(path, { query: { ...values, limit: 25, cursor } }), [path, JSON.stringify(values), cursor]);
  const schema = itemSchema(doc, op.op);
  const cols = columns(schema);
  const H = `h${level}`;
  return html`<section class="list">
    ${heading && html`<${H}>${heading}<//>`}
    ${filters.length > 0 &&
    html`<form class="filters" onSubmit=${(e) => e.preventDefault()} aria-label="Filters">
      ${filters.map((p) => html`<${FilterInput} doc=${doc} parameter=${p} value=${values[p.name] || ""}
        onChange=${(v) => (setCursors([undefined]), setValues({ ...values, [p.name]: v }))} />`)}
    </form>`}
    <${Problem} error=${error} />
    ${!page && !error && html`<${Loading} />`}
    ${page && page.items.length === 0 && html`<p>Nothing here.</p>`}
    ${page &&
    page.items.length > 0 &&
    html`<div class="table-wrap"><table>
      <thead><tr>${cols.map((c) => html`<th scope="col">${title(c)}</th>`)}</tr></thead>
      <tbody>${page.items.map(
        (item) => html`<tr key=${item.id}>${cols.map(
          (c, i) => html`<td>${i === 0 && open ? html`<${Link} href=${open(item)}><${Value} value=${item[c] ?? item.id} name=${c} /><//>` : html`<${Value} value=${item[c]} name=${c} />`}</td>`,
        )}</tr>`,
      )}</tbody></table></div>`}
    <div class="pager">
      ${cursors.length > 1 && html`<button type="button" onClick=${() => setCursors(cursors.slice(0, -1))}>Previous page</button>`}
      ${page?.next_cursor && html`<button type="button" onClick=${() => setCursors([...cursors, page.next_cursor])}>Next page</button>`}
    </div>
  </section>`;
}

function ResourceList({ doc, resource }) {
  usePageTitle(resource.label);
  return html`<h1 tabindex="-1">${resource.label}</h1>
    ${resource.create && html`<p><${Link} class="button primary" href=${href(resource, { mode: "new" })}>New ${resource.noun}<//></p>`}
    ${resource.list && resource.item?.read
      ? html`<${ListOf} doc=${doc} op=${resource.list} path=${resource.path} open=${(item) => href(resource, { id: item.id })} />`
      : resource.list && html`<${ListOf} doc=${doc} op=${resource.list} path=${resource.path} />`}`;
}

/** A single document (settings, a summary): shown with its filters, and replaced with PUT when offered. */
function View({ doc, resource }) {
  const filters = filtersOf(resource.list.op);
  const [values, setValues] = useState({});
  const [editing, setEditing] = useState(false);
  const [data, error, reload] = useLoad(() => api(resource.path, { query: values }), [JSON.stringify(values)]);
  usePageTitle(resource.label);
  const save = async (body) => {
    const schema = bodySchema(doc, resource.replace);
    await api(resource.path, { method: "PUT", body: withVersion(schema, body, data), version: data?.version });
    setEditing(false);
    reload();
  };
  return html`<h1 tabindex="-1">${resource.label}</h1>
    ${filters.length > 0 &&
    html`<form class="filters" onSubmit=${(e) => e.preventDefault()} aria-label="Filters">
      ${filters.map((p) => html`<${FilterInput} doc=${doc} parameter=${p} value=${values[p.name] || ""}
        onChange=${(v) => setValues({ ...values, [p.name]: v })} />`)}</form>`}
    <${Problem} error=${error} />
    ${!data && !error && html`<${Loading} />`}
    ${data && !editing && html`<${Fields} item=${data} />`}
    ${data && resource.replace && !editing && html`<button type="button" onClick=${() => setEditing(true)}>Edit</button>`}
    ${editing && html`<${SchemaForm} doc=${doc} schema=${bodySchema(doc, resource.replace)} value=${data} onSubmit=${save}
      onCancel=${() => setEditing(false)} />`}`;
}

function Fields({ item }) {
  return html`<dl class="fields">${Object.entries(item).map(
    ([name, value]) => html`<div><dt>${title(name)}</dt><dd><${Value} value=${value} name=${name} /></dd></div>`,
  )}</dl>`;
}

function withVersion(schema, body, item) {
  return schema.properties?.version && item?.version !== undefined ? { ...body, version: item.version } : body;
}

/** An action on `item`, sent with its version: not while one is under way or the item is `stale` (being read again). */
export function Action({ doc, action, item, onDone, stale = false }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const schema = bodySchema(doc, action);
  // a form when the action needs something besides the version; optional extras alone (a note) do not stop it
  const needsInput = (schema.required || []).some((p) => p !== "version");
  const label = title(action.path.split("/").pop());
  const run = async (body) => {
    const sent = body === undefined ? (schema.properties?.version ? { version: item.version } : undefined) : withVersion(schema, body, item);
    setBusy(true);
    setError(null);
    try {
      const answer = await api(fill(action.path, item.id), { method: action.method.toUpperCase(), body: sent, version: item.version });
      setOpen(false);
      onDone(answer);
    } finally {
      setBusy(false);
    }
  };
  if (needsInput && open) {
    return html`<div class="action-form"><h3>${label}</h3>
      <${SchemaForm} doc=${doc} schema=${schema} value=${item} submitLabel=${label} onSubmit=${run} onCancel=${() => setOpen(false)} /></div>`;
  }
  return html`<span><button type="button" disabled=${busy || stale}
    onClick=${() => (needsInput ? setOpen(true) : run().catch(setError))}>${label}</button>
    <${Problem} error=${error} /></span>`;
}

function Item({ doc, resource, id }) {
  const path = fill(resource.item.path, id);
  const [item, error, reload, setItem, rereading] = useLoad(() => api(path), [path]);
  const [confirming, setConfirming] = useState(false);
  const [failure, setFailure] = useState(null);
  const name = item && (item.number || item.name || item.title || item.subject || item.email || item.id);
  usePageTitle(name ? `${resource.label}: ${name}` : resource.label);
  if (error) return html`<h1 tabindex="-1">${resource.label}</h1><${Problem} error=${error} />`;
  if (!item) return html`<${Loading} />`;
  const remove = async () => {
    try {
      await api(path, { method: "DELETE", version: item.version });
      navigate(href(resource), { replace: true });
    } catch (e) {
      setFailure(e);
    }
  };
  const editable = resource.item.patch || resource.item.replace;
  return html`<p><${Link} href=${href(resource)}>← ${resource.label}<//></p>
    <h1 tabindex="-1">${name}</h1>
    <${Problem} error=${failure} />
    <div class="row actions" role="group" aria-label="Actions">
      ${editable && html`<${Link} class="button" href=${href(resource, { id, mode: "edit" })}>Edit<//>`}
      ${resource.actions.map((a) => html`<${Action} doc=${doc} action=${a} item=${item} stale=${rereading}
        onDone=${(answer) => (answer && answer.id === item.id ? setItem(answer) : reload())} />`)}
      ${resource.item.remove &&
      (confirming
        ? html`<span role="alert">Delete this ${resource.noun}?
            <button type="button" class="danger" onClick=${remove}>Yes, delete</button>
            <button type="button" onClick=${() => setConfirming(false)}>No</button></span>`
        : html`<button type="button" class="danger" onClick=${() => setConfirming(true)}>Delete</button>`)}
    </div>
    <${Fields} item=${item} />
    ${resource.related.map(
      (r) => html`<${ListOf} doc=${doc} op=${r} path=${fill(r.path, id)} heading=${title(r.path.split("/").pop())} />`,
    )}`;
}

function Edit({ doc, resource, id }) {
  const path = fill(resource.item.path, id);
  const [item, error] = useLoad(() => api(path), [path]);
  const op = resource.item.patch || resource.item.replace;
  const schema = bodySchema(doc, op);
  usePageTitle(`Edit ${resource.noun}`);
  if (error) return html`<${Problem} error=${error} />`;
  if (!item) return html`<${Loading} />`;
  const save = async (body) => {
    let sent = body;
    if (op === resource.item.patch) {
      // a patch carries only what changed
      const before = bodyOf(doc, schema, initialState(doc, schema, item));
      sent = Object.fromEntries(Object.entries(body).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(before[k])));
    }
    await api(path, { method: op.method.toUpperCase(), body: withVersion(schema, sent, item), version: item.version });
    navigate(href(resource, { id }));
  };
  return html`<p><${Link} href=${href(resource, { id })}>← Back<//></p>
    <h1 tabindex="-1">Edit ${resource.noun}</h1>
    <${SchemaForm} doc=${doc} schema=${schema} value=${item} onSubmit=${save} onCancel=${() => navigate(href(resource, { id }))} />`;
}

function Create({ doc, resource }) {
  usePageTitle(`New ${resource.noun}`);
  const save = async (body) => {
    const made = await api(resource.path, { method: "POST", body, create: true });
    navigate(resource.item?.read && made?.id ? href(resource, { id: made.id }) : href(resource));
  };
  return html`<p><${Link} href=${href(resource)}>← ${resource.label}<//></p>
    <h1 tabindex="-1">New ${resource.noun}</h1>
    <${SchemaForm} doc=${doc} schema=${bodySchema(doc, resource.create)} onSubmit=${save} submitLabel="Create" />`;
}

export function Generic({ doc, resources, where }) {
  const path = where.query.get("path");
  const resource = resources.find((r) => r.path === path);
  if (!resource) return html`<h1 tabindex="-1">Not found</h1><p>No such resource, or your role may not see it.</p>`;
  const id = where.query.get("id");
  const mode = where.query.get("mode");
  if (resource.kind === "view") return html`<${View} key=${path} doc=${doc} resource=${resource} />`;
  if (mode === "new" && resource.create) return html`<${Create} key=${path} doc=${doc} resource=${resource} />`;
  if (id && mode === "edit") return html`<${Edit} key=${id} doc=${doc} resource=${resource} id=${id} />`;
  if (id) return html`<${Item} key=${id} doc=${doc} resource=${resource} id=${id} />`;
  return html`<${ResourceList} key=${path} doc=${doc} resource=${resource} />`;
}

