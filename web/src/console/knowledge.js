// The knowledge editor: an item's title and Markdown body with a live preview (saving makes a new version), its
// versions with the changes between any two, and the review and publishing actions the contract offers.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { Markdown } from "../markdown.js";
import { Link } from "../router.js";
import { Badge, Field, Loading, Problem, useLoad, usePageTitle, when } from "../ui.js";
import { Action, ListOf } from "./generic.js";

const ITEMS = "/knowledge/items";
const REVIEW = ["submit", "approve", "request-changes", "publish", "archive", "unarchive", "verify"];

function Diff({ id, number }) {
  const [version, error] = useLoad(() => api(`${ITEMS}/${id}/versions/${number}`, { query: { against: number - 1 } }), [id, number]);
  if (error) return html`<${Problem} error=${error} />`;
  if (!version) return html`<${Loading} />`;
  const lines = (version.diff?.unified || "").split("\n");
  return html`<figure class="diff">
    <figcaption>Changes from version ${number - 1} to ${number}${version.diff?.title_changed ? " (the title changed too)" : ""}</figcaption>
    <pre>${lines.map((l) => html`<span class=${/^(\+\+\+|---|@@)/.test(l) ? "hunk" : l.startsWith("+") ? "added" : l.startsWith("-") ? "removed" : ""}>${l}\n</span>`)}</pre>
  </figure>`;
}

function Versions({ id, current }) {
  const [page, error] = useLoad(() => api(`${ITEMS}/${id}/versions`, { query: { limit: 20 } }), [id, current]);
  const [open, setOpen] = useState(null);
  return html`<section aria-labelledby="versions-heading"><h2 id="versions-heading">Versions</h2>
    <${Problem} error=${error} />
    <ol class="versions" reversed>${(page?.items || []).map(
      (v) => html`<li key=${v.number}>
        <strong>Version ${v.number}</strong> ${when(v.created_at || v.at)} ${v.change_note && html`· ${v.change_note}`}
        ${v.number > 1 && html` <button type="button" class="quiet" aria-expanded=${open === v.number}
          onClick=${() => setOpen(open === v.number ? null : v.number)}>Changes<span class="visually-hidden"> in version ${v.number}</span></button>`}
        ${open === v.number && html`<${Diff} id=${id} number=${v.number} />`}
      </li>`,
    )}</ol></section>`;
}

function Editor({ doc, resource, id }) {
  const [item, error, , setItem] = useLoad(() => api(`${ITEMS}/${id}`), [id]);
  const [draft, setDraft] = useState(null);
  const [failure, setFailure] = useState(null);
  usePageTitle(item ? `Edit: ${item.title}` : "Knowledge item");
  if (error) return html`<${Problem} error=${error} />`;
  if (!item) return html`<${Loading} />`;
  const text = draft || { title: item.title, body: item.body, change_note: "" };
  const save = async (event) => {
    event.preventDefault();
    setFailure(null);
    try {
      const body = { title: text.title, body: text.body, change_note: text.change_note || null, version: item.version };
      setItem(await api(`${ITEMS}/${id}`, { method: "PATCH", body }));
      setDraft(null);
    } catch (e) {
      setFailure(e);
    }
  };
  const actions = (resource?.actions || []).filter((a) => REVIEW.includes(a.path.split("/").pop()));
  return html`<p><${Link} href="/app/console/knowledge">← Knowledge<//></p>
    <h1 tabindex="-1">${item.title}</h1>
    <p class="meta"><${Badge} value=${item.status} /> ${item.visibility} · version ${item.current_version ?? item.version}</p>
    <div class="row actions" role="group" aria-label="Review and publishing">
      ${actions.map((a) => html`<${Action} doc=${doc} action=${a} item=${item} onDone=${setItem} />`)}
    </div>
    <form class="card editor" onSubmit=${save}>
      <${Problem} error=${failure} />
      <${Field} label="Title" id="kb-title" error=${failure?.fields?.title}>${(a) =>
        html`<input ...${a} value=${text.title} onInput=${(e) => setDraft({ ...text, title: e.currentTarget.value })} />`}<//>
      <div class="split">
        <${Field} label="Body (Markdown)" id="kb-body" error=${failure?.fields?.body}>${(a) =>
          html`<textarea ...${a} rows="16" value=${text.body} onInput=${(e) => setDraft({ ...text, body: e.currentTarget.value })}></textarea>`}<//>
        <section class="preview" aria-label="Preview"><${Markdown} text=${text.body} /></section>
      </div>
      <${Field} label="What changed (optional)" id="kb-note" error=${failure?.fields?.change_note}>${(a) =>
        html`<input ...${a} value=${text.change_note} onInput=${(e) => setDraft({ ...text, change_note: e.currentTarget.value })} />`}<//>
      <button type="submit" class="primary" disabled=${!draft}>Save as a new version</button>
    </form>
    <${Versions} id=${id} current=${item.version} />`;
}

export default function Knowledge({ doc, where, resources }) {
  const id = where.query.get("id");
  const resource = resources.find((r) => r.path === ITEMS);
  usePageTitle("Knowledge");
  if (id) return html`<${Editor} key=${id} doc=${doc} resource=${resource} id=${id} />`;
  return html`<h1 tabindex="-1">Knowledge</h1>
    ${resource?.create && html`<p><${Link} class="button primary" href=${`/app/console/resource?path=${encodeURIComponent(ITEMS)}&mode=new`}>New item<//></p>`}
    ${resource?.list && html`<${ListOf} doc=${doc} op=${resource.list} path=${ITEMS} open=${(item) => `/app/console/knowledge?id=${item.id}`} />`}`;
}
