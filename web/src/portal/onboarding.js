// My onboarding: each process of my client with its progress, the tasks assigned to us, and the documents the
// firm asked for (uploaded through the scan pipeline; their status follows the scan).
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";
import { postToStorage } from "../tickets/attachments.js";
import { Badge, Loading, Problem, useLoad, usePageTitle, when } from "../ui.js";

const POLL_MS = 1500;
const POLL_LIMIT = 60;

function Progress({ process }) {
  const p = process.progress || {};
  const done = p.done ?? 0;
  const total = p.total ?? 0;
  return html`<p><label>Progress ${done} of ${total}
    <progress max=${total || 1} value=${done}>${done}/${total}</progress></label></p>`;
}

function Tasks({ process }) {
  const [page, error, reload] = useLoad(() => api("/onboarding/tasks", { query: { process_id: process.id, limit: 100 } }), [process.id]);
  const [failure, setFailure] = useState(null);
  const complete = async (task) => {
    setFailure(null);
    try {
      await api(`/onboarding/tasks/${task.id}/complete`, { method: "POST", version: task.version });
      reload();
    } catch (e) {
      setFailure(e);
    }
  };
  return html`<h3>Tasks</h3><${Problem} error=${error || failure} />
    <ul class="checklist">
      ${(page?.items || []).map(
        (t) => html`<li key=${t.id}>
          <span>${t.title}</span> <${Badge} value=${t.status} />
          ${t.due_date && html` <small>due ${t.due_date}</small>`}
          ${t.status === "open" && (t.assignee_kind === "client" || t.assignee === "client" || t.assignee?.kind === "client") &&
          html` <button type="button" aria-label=${`Mark done: ${t.title}`} onClick=${() => complete(t)}>Mark done</button>`}
        </li>`,
      )}
    </ul>`;
}

function Documents({ process }) {
  const [page, error, reload] = useLoad(() => api("/onboarding/documents", { query: { process_id: process.id, limit: 100 } }), [process.id]);
  const [failure, setFailure] = useState(null);
  const [progress, setProgress] = useState({});
  const [watching, setWatching] = useState(0); // polls left while a file is being scanned
  useEffect(() => {
    if (!watching) return undefined;
    const timer = setTimeout(() => (setWatching(watching - 1), reload()), POLL_MS);
    return () => clearTimeout(timer);
  }, [watching, page]);
  const send = async (doc, file) => {
    setFailure(null);
    try {
      const body = { original_filename: file.name, content_type: file.type || "application/octet-stream", size: file.size };
      const started = await api(`/onboarding/documents/${doc.id}/upload`, { method: "POST", body, create: true });
      await postToStorage(started.upload, file, (done) => setProgress({ ...progress, [doc.id]: done }));
      setProgress({});
      setWatching(POLL_LIMIT);
      reload();
    } catch (e) {
      setFailure(e);
    }
  };
  return html`<h3>Documents we need from you</h3><${Problem} error=${error || failure} />
    <ul class="checklist">
      ${(page?.items || []).map(
        (d) => html`<li key=${d.id}>
          <span>${d.name}${d.required ? " (required)" : ""}</span> <${Badge} value=${d.status} />
          ${d.review_note && html` <small>${d.review_note}</small>`}
          ${d.status_reason && html` <small role="alert">${d.status_reason}</small>`}
          ${(d.status === "requested" || d.status === "rejected") &&
          html`<label class="file">Upload<span class="visually-hidden"> ${d.name}</span>
            <input type="file" onChange=${(e) => e.currentTarget.files[0] && send(d, e.currentTarget.files[0])} /></label>`}
          ${progress[d.id] !== undefined && html`<progress max="1" value=${progress[d.id]} aria-label=${`Uploading ${d.name}`}></progress>`}
        </li>`,
      )}
    </ul>`;
}

export default function Onboarding() {
  usePageTitle("Onboarding");
  const [page, error] = useLoad(() => api("/onboarding/processes", { query: { limit: 50 } }), []);
  return html`<h1 tabindex="-1">Onboarding</h1>
    <${Problem} error=${error} />
    ${!page && !error && html`<${Loading} />`}
    ${page && page.items.length === 0 && html`<p>Nothing to do: you have no onboarding in progress.</p>`}
    ${(page?.items || []).map(
      (p) => html`<section class="card" key=${p.id} aria-label=${p.name || p.template_name || "Onboarding"}>
        <h2>${p.name || p.template_name || "Onboarding"} <${Badge} value=${p.status} /></h2>
        <p class="meta">Started ${p.start_date || when(p.created_at)}${p.target_date ? `, target ${p.target_date}` : ""}</p>
        <${Progress} process=${p} />
        <${Tasks} process=${p} />
        <${Documents} process=${p} />
      </section>`,
    )}`;
}
