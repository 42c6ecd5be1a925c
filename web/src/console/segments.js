// The segment builder: AND/OR groups of conditions over the fields the API publishes, the number of contacts they
// select counted live as they change (without saving), then saved as a dynamic segment.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";
import { navigate } from "../router.js";
import { Field, Loading, Problem, useLoad, usePageTitle } from "../ui.js";

const PREVIEW_DELAY_MS = 500;
const emptyRule = (fields) => ({ field: fields[0].field, operator: Object.keys(fields[0].operators)[0], value: "" });

/** The criteria the API takes, from the builder's state (list values split at commas, days as numbers). */
function criteriaOf(group, fields) {
  return {
    match: group.match,
    conditions: group.conditions.map((c) => {
      if (c.conditions) return criteriaOf(c, fields);
      const takes = fields.find((f) => f.field === c.field)?.operators[c.operator];
      if (takes === "none") return { field: c.field, operator: c.operator };
      if (takes?.startsWith("list")) return { ...c, value: String(c.value).split(",").map((v) => v.trim()).filter(Boolean) };
      if (takes === "days") return { ...c, value: Number(c.value) };
      return c;
    }),
  };
}

function Rule({ rule, path, fields, tags, onChange, onRemove, errors }) {
  const field = fields.find((f) => f.field === rule.field) || fields[0];
  const takes = field.operators[rule.operator];
  const id = `rule-${path}`;
  const error = Object.entries(errors).find(([at]) => at.startsWith(`criteria.${path}`))?.[1];
  return html`<li class="rule">
    <div class="row">
      <div class="field"><label for=${`${id}-field`}>Field</label>
        <select id=${`${id}-field`} value=${rule.field}
          onChange=${(e) => {
            const next = fields.find((f) => f.field === e.currentTarget.value);
            onChange({ field: next.field, operator: Object.keys(next.operators)[0], value: "" });
          }}>${fields.map((f) => html`<option value=${f.field}>${f.field}</option>`)}</select></div>
      <div class="field"><label for=${`${id}-op`}>Condition</label>
        <select id=${`${id}-op`} value=${rule.operator} onChange=${(e) => onChange({ ...rule, operator: e.currentTarget.value })}>
          ${Object.keys(field.operators).map((o) => html`<option value=${o}>${o.replace(/_/g, " ")}</option>`)}</select></div>
      ${takes !== "none" &&
      html`<div class="field"><label for=${`${id}-value`}>Value${takes?.startsWith("list") ? " (comma-separated)" : ""}</label>
        ${takes === "tag id"
          ? html`<select id=${`${id}-value`} value=${rule.value} onChange=${(e) => onChange({ ...rule, value: e.currentTarget.value })}>
              <option value="">—</option>${tags.map((t) => html`<option value=${t.id}>${t.name}</option>`)}</select>`
          : html`<input id=${`${id}-value`} type=${takes === "date" ? "date" : takes === "days" ? "number" : "text"}
              value=${rule.value} onInput=${(e) => onChange({ ...rule, value: e.currentTarget.value })} />`}</div>`}
      <button type="button" class="quiet" onClick=${onRemove}>Remove<span class="visually-hidden"> condition</span></button>
    </div>
    ${error && html`<small class="error">${error}</small>`}
  </li>`;
}

function Group({ group, path, depth, limits, fields, tags, onChange, onRemove, errors }) {
  const set = (i, value) => onChange({ ...group, conditions: group.conditions.map((c, k) => (k === i ? value : c)) });
  const drop = (i) => onChange({ ...group, conditions: group.conditions.filter((_, k) => k !== i) });
  const id = `group-${path || "root"}`;
  return html`<fieldset class="group">
    <legend><label for=${id}>Contacts matching</label>
      <select id=${id} value=${group.match} onChange=${(e) => onChange({ ...group, match: e.currentTarget.value })}>
        <option value="all">all of</option><option value="any">any of</option></select></legend>
    <ul>${group.conditions.map((c, i) => {
      const at = `${path ? `${path}.` : ""}conditions.${i}`;
      return c.conditions
        ? html`<li><${Group} group=${c} path=${at} depth=${depth + 1} limits=${limits} fields=${fields} tags=${tags}
            onChange=${(v) => set(i, v)} onRemove=${() => drop(i)} errors=${errors} /></li>`
        : html`<${Rule} rule=${c} path=${at} fields=${fields} tags=${tags} onChange=${(v) => set(i, v)} onRemove=${() => drop(i)} errors=${errors} />`;
    })}</ul>
    <div class="row">
      <button type="button" onClick=${() => onChange({ ...group, conditions: [...group.conditions, emptyRule(fields)] })}>Add a condition</button>
      ${depth < limits.max_depth &&
      html`<button type="button" onClick=${() => onChange({ ...group, conditions: [...group.conditions, { match: "any", conditions: [emptyRule(fields)] }] })}>
        Add a group</button>`}
      ${onRemove && html`<button type="button" class="quiet" onClick=${onRemove}>Remove group</button>`}
    </div>
  </fieldset>`;
}

export default function Segments() {
  usePageTitle("Segment builder");
  const [catalog, catalogError] = useLoad(() => api("/marketing/segments/fields"), []);
  const [tags] = useLoad(() => api("/marketing/tags", { query: { limit: 100 } }).then((p) => p.items, () => []), []);
  const [root, setRoot] = useState(null);
  const [name, setName] = useState("");
  const [preview, setPreview] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (catalog && !root) setRoot({ match: "all", conditions: [emptyRule(catalog.fields)] });
  }, [catalog]);
  useEffect(() => {
    if (!root) return undefined;
    let live = true; // the count for older criteria never replaces a newer one's
    const timer = setTimeout(() => {
      api("/marketing/segments/preview", { method: "POST", body: { criteria: criteriaOf(root, catalog.fields) } }).then(
        (found) => live && (setPreview(found), setError(null)),
        (failure) => live && (setPreview(null), setError(failure)),
      );
    }, PREVIEW_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [JSON.stringify(root)]);
  if (catalogError) return html`<h1 tabindex="-1">Segment builder</h1><${Problem} error=${catalogError} />`;
  if (!root) return html`<${Loading} />`;
  const save = async (event) => {
    event.preventDefault();
    try {
      const made = await api("/marketing/segments", {
        method: "POST",
        create: true,
        body: { name, kind: "dynamic", criteria: criteriaOf(root, catalog.fields) },
      });
      navigate(`/app/console/resource?${new URLSearchParams({ path: "/marketing/segments", id: made.id })}`);
    } catch (failure) {
      setError(failure);
    }
  };
  return html`<h1 tabindex="-1">Segment builder</h1>
    <form class="card" onSubmit=${save}>
      <${Field} label="Segment name" id="segment-name" error=${error?.fields?.name}>${(a) =>
        html`<input ...${a} required value=${name} onInput=${(e) => setName(e.currentTarget.value)} />`}<//>
      <${Group} group=${root} path="" depth=${1} limits=${catalog} fields=${catalog.fields} tags=${tags || []}
        onChange=${setRoot} errors=${error?.fields || {}} />
      <p class="live" role="status" aria-live="polite">${preview
        ? html`<strong data-testid="segment-count">${preview.count}${preview.count_is_lower_bound ? "+" : ""}</strong> contacts match
            ${preview.sample?.length ? html` (e.g. ${preview.sample.map((m) => m.name || m.email || m.contact_id).join(", ")})` : ""}`
        : error ? "Complete the conditions to count the contacts they select." : "Counting…"}</p>
      ${error && !Object.keys(error.fields || {}).length && html`<${Problem} error=${error} />`}
      <button type="submit" class="primary">Save segment</button>
    </form>`;
}
