// Upload a requested onboarding document from its emailed link: the file goes straight to storage (with a
// progress bar), then the page follows the scan until the document is received or refused.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";
import { loadContract } from "../contract.js";
import { postToStorage } from "../tickets/attachments.js";
import { Loading, Problem, useLoad, usePageTitle } from "../ui.js";
import { explain, LinkPage, publicOperation, TEXTS, tokenOf, withToken } from "./token.js";

const POLL_MS = 1500;

export default function Upload({ where }) {
  const token = tokenOf(where);
  const [doc] = useLoad(loadContract, []);
  const read = doc && publicOperation(doc, "get", /onboarding\/documents/);
  const start = doc && publicOperation(doc, "post", /onboarding\/documents.*upload/);
  const [document_, loadError, reload] = useLoad(
    () => (read ? api(read.path, { auth: false, ...withToken(read, token) }) : Promise.resolve(null)),
    [read?.path],
  );
  const [progress, setProgress] = useState(null);
  const [error, setError] = useState(null);
  const [sent, setSent] = useState(false);
  usePageTitle("Upload a document");
  useEffect(() => {
    if (!sent || !document_ || document_.status !== "requested") return undefined;
    const timer = setTimeout(reload, POLL_MS);
    return () => clearTimeout(timer);
  }, [sent, document_]);

  if (!doc) return html`<${LinkPage} heading="Upload a document"><${Loading} /><//>`;
  if (!start) return html`<${LinkPage} heading="Upload a document"><p role="alert">Uploading by link is not available yet.</p><//>`;
  if (loadError) return html`<${LinkPage} heading="Upload a document"><p role="alert">${TEXTS[explain(loadError)] || loadError.message}</p><//>`;
  const submit = async (event) => {
    event.preventDefault();
    const file = event.currentTarget.file.files[0];
    setError(null);
    setProgress(0);
    try {
      const path = start.path.replace(/\{[^}]+\}/, document_?.id || "");
      const body = { original_filename: file.name, content_type: file.type || "application/octet-stream", size: file.size };
      const started = await api(path, { method: "POST", auth: false, ...withToken(start, token, body) });
      await postToStorage(started.upload, file, setProgress);
      setSent(true);
      reload();
    } catch (failure) {
      setError(failure);
    } finally {
      setProgress(null);
    }
  };
  const status = document_?.status;
  return html`<${LinkPage} heading=${document_ ? `Upload: ${document_.name}` : "Upload a document"}>
    ${document_?.description && html`<p>${document_.description}</p>`}
    <${Problem} error=${error} />
    ${sent && status === "requested" && html`<p role="status">Received; checking the file for viruses…</p>`}
    ${status === "uploaded" && html`<p role="status">Thank you: your document was received.</p>`}
    ${status === "approved" && html`<p role="status">This document was already received and approved.</p>`}
    ${document_?.status_reason && html`<p role="alert">${document_.status_reason}</p>`}
    ${(!status || status === "requested" || status === "rejected") &&
    html`<form class="card" onSubmit=${submit}>
      <label for="document-file">Your file</label>
      <input id="document-file" name="file" type="file" required />
      <button type="submit" class="primary" disabled=${progress !== null}>Upload</button>
      ${progress !== null && html`<progress max="1" value=${progress} aria-label="Upload progress">${Math.round(progress * 100)}%</progress>`}
    </form>`}
  <//>`;
}
