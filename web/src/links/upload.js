// Upload a requested onboarding document from its emailed link (no sign-in): the page shows what the firm asks
// for and the files sent so far, posts the file straight to storage (with a progress bar), then follows the scan
// until the file is clean (the document is received) or refused (the reason). The token names the document.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";
import { loadContract } from "../contract.js";
import { postToStorage, size } from "../tickets/attachments.js";
import { Badge, Loading, Problem, useLoad, usePageTitle } from "../ui.js";
import { claims, explain, LinkPage, publicOperation, TEXTS, tokenOf, withToken } from "./token.js";

const POLL_MS = 1500;
const POLL_LIMIT = 80; // two minutes of following one upload
const HEADING = "Upload a document";

function call(found, documentId, token, method, body) {
  const path = found.path.replace("{document_id}", encodeURIComponent(documentId));
  return api(path, { method, auth: false, ...withToken(found, token, body) });
}

/** Whether the newest file's verdict is still to come, or not yet reflected on the document (which follows it). */
function settling(request) {
  const latest = request?.files?.[0];
  if (!latest) return false;
  if (latest.status === "pending_scan") return true;
  if (latest.status === "clean") return request.status === "requested" || request.status === "rejected";
  if (latest.status === "infected" || latest.status === "rejected") {
    return !(request.status_reason || "").startsWith(latest.original_filename);
  }
  return false; // scan_failed: the firm is told; the file waits for a new scan
}

function Files({ files }) {
  if (!files.length) return null;
  return html`<h2>Files sent</h2>
    <ul class="checklist" aria-live="polite">
      ${files.map(
        (f) => html`<li key=${f.id}>
          <span>${f.original_filename}</span> <small>${size(f.size)}</small>
          <${Badge} value=${f.status === "pending_scan" ? "checking" : f.status} />
          ${f.status_reason && html` <small role="alert">${f.status_reason}</small>`}
        </li>`,
      )}
    </ul>`;
}

export default function Upload({ where }) {
  const token = tokenOf(where);
  const documentId = String(claims(token)?.s || "");
  const [doc] = useLoad(loadContract, []);
  const read = doc && publicOperation(doc, "get", /onboarding\/documents\/\{document_id\}\/request$/);
  const start = doc && publicOperation(doc, "post", /onboarding\/documents\/\{document_id\}\/upload-by-link$/);
  const [request, loadError, reload] = useLoad(
    () => (read && documentId ? call(read, documentId, token, "GET") : Promise.resolve(null)),
    [read?.path],
  );
  const [progress, setProgress] = useState(null);
  const [error, setError] = useState(null);
  usePageTitle(HEADING);
  const [polls, setPolls] = useState(POLL_LIMIT);
  const scanning = settling(request);
  useEffect(() => {
    if (!scanning || polls <= 0) return undefined;
    const timer = setTimeout(() => (setPolls(polls - 1), reload()), POLL_MS);
    return () => clearTimeout(timer);
  }, [request]);

  if (!doc) return html`<${LinkPage} heading=${HEADING}><${Loading} /><//>`;
  if (!read || !start) {
    return html`<${LinkPage} heading=${HEADING}><p role="alert">Uploading by link is not available yet.</p><//>`;
  }
  if (!documentId) return html`<${LinkPage} heading=${HEADING}><p role="alert">${TEXTS.invalid}</p><//>`;
  if (loadError) {
    return html`<${LinkPage} heading=${HEADING}><p role="alert">${TEXTS[explain(loadError)] || loadError.message}</p><//>`;
  }
  if (!request) return html`<${LinkPage} heading=${HEADING}><${Loading} /><//>`;

  const submit = async (event) => {
    event.preventDefault();
    const file = event.currentTarget.file.files[0];
    setError(null);
    setProgress(0);
    try {
      const body = { original_filename: file.name, content_type: file.type || "application/octet-stream", size: file.size };
      const started = await call(start, documentId, token, "POST", body);
      await postToStorage(started.upload, file, setProgress);
      event.target.reset?.();
      setPolls(POLL_LIMIT);
      reload();
    } catch (failure) {
      setError(failure);
    } finally {
      setProgress(null);
    }
  };
  const received = request.status === "uploaded" || request.status === "approved";
  return html`<${LinkPage} heading=${`Upload: ${request.name}`}>
    ${request.description && html`<p>${request.description}</p>`}
    <p>Due ${request.due_date}${request.required ? "" : " (optional)"} · <${Badge} value=${request.status} /></p>
    <${Problem} error=${error} />
    ${scanning && html`<p role="status">Received; checking the file for viruses…</p>`}
    ${!scanning && received && html`<p role="status" class="ok">Thank you: your document was received.</p>`}
    ${!scanning && !received && request.status_reason && html`<p role="alert">${request.status_reason}</p>`}
    ${request.accepting && !scanning
      ? html`<form class="card" onSubmit=${submit}>
          <label for="document-file">${received ? "Send a newer file" : "Your file"}</label>
          <input id="document-file" name="file" type="file" required />
          <button type="submit" class="primary" disabled=${progress !== null}>Upload</button>
          ${progress !== null &&
          html`<progress max="1" value=${progress} aria-label="Upload progress">${Math.round(progress * 100)}%</progress>`}
        </form>`
      : !request.accepting && html`<p role="status">This request takes no more files.</p>`}
    <${Files} files=${request.files} />
  <//>`;
}
