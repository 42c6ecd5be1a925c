// A form built from a request schema: a control per property (select for enums, checkbox for booleans, date
// inputs for dates, nested fieldsets for objects, JSON for what has no simpler control), each with the error
// the API's problem+json gave for its field.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { resolve } from "../contract.js";
import { Field, Problem, title } from "../ui.js";

const SKIP = new Set(["version"]);

function kindOf(doc, schema) {
  const s = resolve(doc, schema);
  if (s.const !== undefined) return "const";
  if (s.enum) return "enum";
  if (s.type === "boolean") return "boolean";
  if (s.type === "integer" || s.type === "number") return "number";
  if (s.type === "string") {
    if (s.format === "date-time") return "datetime";
    if (s.format === "date") return "date";
    return (s.maxLength || 0) > 300 ? "textarea" : "text";
  }
  if (s.type === "array") {
    const items = resolve(doc, s.items);
    if (items.enum) return "enum-list";
    if (["string", "integer", "number"].includes(items.type)) return "list";
    return "json";
  }
  if (s.type === "object" && s.properties && !s.additionalProperties) return "object";
  return "json";
}

/** The form's text for a value, by control kind. */
function toInput(kind, value) {
  if (value === undefined || value === null) return kind === "boolean" ? false : kind === "enum-list" ? [] : "";
  if (kind === "datetime") return String(value).slice(0, 16);
  if (kind === "list") return value.join(", ");
  if (kind === "json") return JSON.stringify(value, null, 2);
  return value;
}

/** The value the API wants back from the form's text; undefined leaves the field out. */
function fromInput(doc, kind, schema, text, required) {
  const s = resolve(doc, schema);
  const empty = text === "" || text === undefined;
  if (kind === "boolean" || kind === "enum-list") return text;
  if (kind === "object") return text;
  if (empty) return required ? (s.nullable ? null : "") : s.nullable ? null : undefined;
  if (kind === "number") return Number(text);
  if (kind === "datetime") return new Date(text).toISOString();
  if (kind === "list") {
    const items = text.split(",").map((x) => x.trim()).filter(Boolean);
    return resolve(doc, s.items).type === "string" ? items : items.map(Number);
  }
  if (kind === "json") {
    try {
      return JSON.parse(text);
    } catch {
      throw new FormError("Not valid JSON.");
    }
  }
  return text;
}

class FormError extends Error {}

/** Initial form state for `schema` from an existing value (edits) or defaults (creates). */
export function initialState(doc, schema, value = {}) {
  const s = resolve(doc, schema);
  const state = {};
  for (const [name, prop] of Object.entries(s.properties || {})) {
    if (SKIP.has(name)) continue;
    const kind = kindOf(doc, prop);
    const given = value?.[name] !== undefined ? value[name] : resolve(doc, prop).default;
    state[name] = kind === "object" ? initialState(doc, prop, given || {}) : toInput(kind, given);
  }
  return state;
}

function isBlank(state) {
  return Object.values(state || {}).every((v) =>
    v && typeof v === "object" && !Array.isArray(v) ? isBlank(v) : v === "" || v === null || v === undefined || v === false || (Array.isArray(v) && !v.length),
  );
}

/** The request body from form state; errors of unparsable fields (JSON) in `problems`. */
export function bodyOf(doc, schema, state, problems = {}, prefix = "") {
  const s = resolve(doc, schema);
  const body = {};
  for (const [name, prop] of Object.entries(s.properties || {})) {
    if (SKIP.has(name)) continue;
    const kind = kindOf(doc, prop);
    if (kind === "const") {
      body[name] = resolve(doc, prop).const;
      continue;
    }
    try {
      const required = (s.required || []).includes(name);
      let value;
      if (kind === "object") {
        // an optional object left blank is left out (null when it may be null), not sent half-empty
        const blank = isBlank(state[name]);
        value = blank && !required ? (resolve(doc, prop).nullable ? null : undefined) : bodyOf(doc, prop, state[name] || {}, problems, `${prefix}${name}.`);
      } else {
        value = fromInput(doc, kind, prop, state[name], required);
      }
      if (value !== undefined) body[name] = value;
    } catch (error) {
      problems[`${prefix}${name}`] = error.message;
    }
  }
  return body;
}

function Control({ doc, name, schema, path, state, setState, errors, required }) {
  const s = resolve(doc, schema);
  const kind = kindOf(doc, schema);
  const id = `field-${path.replace(/\./g, "-")}`;
  const label = `${s.title || title(name)}${required ? " *" : ""}`;
  const value = state[name];
  const set = (v) => setState({ ...state, [name]: v });
  const error = errors[path];
  const hint = s.description;
  if (kind === "const") return null;
  if (kind === "object") {
    return html`<fieldset class="nested"><legend>${label}</legend>
      ${Object.entries(s.properties).map(
        ([child, prop]) => html`<${Control} doc=${doc} name=${child} schema=${prop} path=${`${path}.${child}`}
          state=${value || {}} setState=${set} errors=${errors} required=${(s.required || []).includes(child)} />`,
      )}</fieldset>`;
  }
  if (kind === "boolean") {
    return html`<div class=${`field check${error ? " invalid" : ""}`}>
      <label><input id=${id} type="checkbox" checked=${Boolean(value)} onChange=${(e) => set(e.currentTarget.checked)} /> ${label}</label>
      ${hint && html`<small class="hint">${hint}</small>`}${error && html`<small class="error">${error}</small>`}</div>`;
  }
  if (kind === "enum-list") {
    const options = resolve(doc, s.items).enum;
    return html`<fieldset class=${error ? "invalid" : ""}><legend>${label}</legend>
      ${options.map((o) => html`<label class="check"><input type="checkbox" checked=${value.includes(o)}
        onChange=${(e) => set(e.currentTarget.checked ? [...value, o] : value.filter((x) => x !== o))} /> ${o}</label>`)}
      ${error && html`<small class="error">${error}</small>`}</fieldset>`;
  }
  const input = (a) => {
    const common = { ...a, name: path, value, onInput: (e) => set(e.currentTarget.value), required };
    if (kind === "enum") {
      return html`<select ...${common} onChange=${(e) => set(e.currentTarget.value)}>
        ${(!required || s.nullable || value === "") && html`<option value="">—</option>`}
        ${s.enum.map((o) => html`<option value=${o}>${o}</option>`)}</select>`;
    }
    if (kind === "textarea" || kind === "json") return html`<textarea ...${common} rows=${kind === "json" ? 6 : 4}></textarea>`;
    const type = { number: "number", datetime: "datetime-local", date: "date" }[kind] || "text";
    return html`<input ...${common} type=${type} maxlength=${s.maxLength} min=${s.minimum} max=${s.maximum}
      step=${s.type === "number" ? "any" : undefined} />`;
  };
  const hints = [hint, kind === "list" && "Separate values with commas.", kind === "json" && "JSON."].filter(Boolean).join(" ");
  return html`<${Field} label=${label} id=${id} error=${error} hint=${hints || undefined}>${input}<//>`;
}

/** `onSubmit(body)` may throw an ApiError: its field errors appear at their fields. */
export function SchemaForm({ doc, schema, value, onSubmit, submitLabel = "Save", onCancel }) {
  const resolved = resolve(doc, schema);
  const [state, setState] = useState(() => initialState(doc, resolved, value));
  const [error, setError] = useState(null);
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    const problems = {};
    const body = bodyOf(doc, resolved, state, problems);
    setErrors(problems);
    if (Object.keys(problems).length) return setError(new Error("Some fields need attention."));
    setBusy(true);
    setError(null);
    try {
      await onSubmit(body);
    } catch (failure) {
      setError(failure);
      setErrors(failure.fields || {});
    } finally {
      setBusy(false);
    }
  };
  const known = new Set(Object.keys(resolved.properties || {}));
  const elsewhere = Object.entries(errors).filter(([field]) => !known.has(field.split(".")[0]));
  return html`<form class="card schema-form" onSubmit=${submit} noValidate>
    <${Problem} error=${error} />
    ${elsewhere.length > 0 && html`<ul class="error">${elsewhere.map(([f, m]) => html`<li>${f}: ${m}</li>`)}</ul>`}
    ${Object.entries(resolved.properties || {})
      .filter(([name]) => !SKIP.has(name))
      .map(
        ([name, prop]) => html`<${Control} doc=${doc} name=${name} schema=${prop} path=${name} state=${state}
          setState=${setState} errors=${errors} required=${(resolved.required || []).includes(name)} />`,
      )}
    <div class="row">
      <button type="submit" class="primary" disabled=${busy}>${submitLabel}</button>
      ${onCancel && html`<button type="button" onClick=${onCancel}>Cancel</button>`}
    </div>
  </form>`;
}
