// The email-template editor: subject, HTML and text bodies, saved with their version, and the template rendered
// by the API for a chosen contact (or sample data); the HTML preview runs in a sandboxed frame without scripts.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { Link } from "../router.js";
import { Field, Loading, Problem, useLoad, usePageTitle } from "../ui.js";
import { ListOf } from "./generic.js";

const TEMPLATES = "/marketing/email-templates";
const EDITED = ["subject", "html", "text"];

function Preview({ id, version }) {
  const [contact, setContact] = useState("");
  const [contacts] = useLoad(() => api("/crm/contacts", { query: { limit: 50 } }).then((p) => p.items, () => []), []);
  const [rendered, error] = useLoad(() => api(`${TEMPLATES}/${id}/preview`, { query: { contact_id: contact || undefined } }), [id, version, contact]);
  return html`<section class="card" aria-labelledby="preview-heading">
    <h2 id="preview-heading">Preview</h2>
    <div class="field"><label for="preview-contact">Render for</label>
      <select id="preview-contact" value=${contact} onChange=${(e) => setContact(e.currentTarget.value)}>
        <option value="">Sample data</option>${(contacts || []).map((c) => html`<option value=${c.id}>${c.name}</option>`)}</select></div>
    <${Problem} error=${error} />
    ${!rendered && !error && html`<${Loading} />`}
    ${rendered &&
    html`<p><strong>Subject:</strong> <span data-testid="preview-subject">${rendered.subject}</span></p>
      <iframe class="email-preview" title="HTML version" sandbox="" srcdoc=${rendered.html}></iframe>
      <details><summary>Text version</summary><pre>${rendered.text}</pre></details>`}
  </section>`;
}

function Editor({ id }) {
  const [template, error, , setTemplate] = useLoad(() => api(`${TEMPLATES}/${id}`), [id]);
  const [draft, setDraft] = useState(null);
  const [failure, setFailure] = useState(null);
  usePageTitle(template ? `Template: ${template.name}` : "Template");
  if (error) return html`<${Problem} error=${error} />`;
  if (!template) return html`<${Loading} />`;
  const text = draft || Object.fromEntries(EDITED.map((k) => [k, template[k] || ""]));
  const save = async (event) => {
    event.preventDefault();
    setFailure(null);
    try {
      const body = { ...text, text: text.text || null, version: template.version }; // no text: derived from the HTML
      setTemplate(await api(`${TEMPLATES}/${id}`, { method: "PATCH", body }));
      setDraft(null);
    } catch (e) {
      setFailure(e);
    }
  };
  const field = (name, label, rows) =>
    html`<${Field} label=${label} id=${`template-${name}`} error=${failure?.fields?.[name]}>${(a) =>
      rows
        ? html`<textarea ...${a} rows=${rows} value=${text[name]} onInput=${(e) => setDraft({ ...text, [name]: e.currentTarget.value })}></textarea>`
        : html`<input ...${a} value=${text[name]} onInput=${(e) => setDraft({ ...text, [name]: e.currentTarget.value })} />`}<//>`;
  return html`<p><${Link} href="/app/console/templates">← Email templates<//></p>
    <h1 tabindex="-1">${template.name}</h1>
    <div class="split">
      <form class="card" onSubmit=${save}>
        <${Problem} error=${failure} />
        ${field("subject", "Subject")} ${field("html", "HTML body", 12)} ${field("text", "Text body", 8)}
        <p class="hint">Variables such as {{ contact.name }} are filled in for each recipient.</p>
        <button type="submit" class="primary" disabled=${!draft}>Save</button>
      </form>
      <${Preview} id=${id} version=${template.version} />
    </div>`;
}

export default function Templates({ doc, where, resources }) {
  const id = where.query.get("id");
  const resource = resources.find((r) => r.path === TEMPLATES);
  usePageTitle("Email templates");
  if (id) return html`<${Editor} key=${id} id=${id} />`;
  return html`<h1 tabindex="-1">Email templates</h1>
    ${resource?.create && html`<p><${Link} class="button primary" href=${`/app/console/resource?path=${encodeURIComponent(TEMPLATES)}&mode=new`}>New template<//></p>`}
    ${resource?.list && html`<${ListOf} doc=${doc} op=${resource.list} path=${TEMPLATES} open=${(t) => `/app/console/templates?id=${t.id}`} />`}`;
}
