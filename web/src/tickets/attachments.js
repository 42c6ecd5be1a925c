// Files on a ticket: the browser posts them straight to S3 with the presigned POST the API hands out (with a
// progress bar), then the scan decides; clean images get a thumbnail, clean files a short-lived download link.
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api.js";
import { Badge, Problem, uid } from "../ui.js";

const POLL_MS = 1500;
const POLL_LIMIT = 80;

/** Starts an upload at `path` (an attachments collection) and posts the file; `onProgress(0..1)`. */
export async function upload(path, file, onProgress, extra = {}) {
  const started = await api(path, {
    method: "POST",
    create: true,
    body: { original_filename: file.name, content_type: file.type || "application/octet-stream", size: file.size, ...extra },
  });
  await postToStorage(started.upload, file, onProgress);
  return started.attachment;
}

export function postToStorage(target, file, onProgress) {
  const form = new FormData();
  for (const [name, value] of Object.entries(target.fields)) form.append(name, value);
  form.append("file", file);
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", target.url);
    request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    request.onload = () =>
      request.status < 300 ? (onProgress(1), resolve()) : reject(new Error(`The upload was refused (${request.status}).`));
    request.onerror = () => reject(new Error("The upload failed: check your connection and try again."));
    request.send(form);
  });
}

export function size(bytes) {
  if (bytes === null || bytes === undefined) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function Thumbnail({ attachment }) {
  const [src, setSrc] = useState(null);
  useEffect(() => {
    api(`/attachments/${attachment.id}/thumbnail`).then((link) => setSrc(link.url), () => setSrc(null));
  }, [attachment.id]);
  return src ? html`<img class="thumb" src=${src} alt=${`Preview of ${attachment.original_filename}`} />` : null;
}

async function download(attachment) {
  const link = await api(`/attachments/${attachment.id}/download`);
  const anchor = document.createElement("a");
  anchor.href = link.url;
  anchor.download = link.filename;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
}

/** The attachments of `collection` (e.g. /support/tickets/ID/attachments), and a form to add one. */
export function Attachments({ collection, canUpload = true, publicChoice = false }) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const [progress, setProgress] = useState(null);
  const [polls, setPolls] = useState(0);
  const inputId = uid("file");

  const asked = useRef(0);
  // the list asked for last wins: a poll's answer arriving after the one an upload asked for must not hide the file
  const load = () => {
    const mine = ++asked.current;
    const latest = (set) => (value) => mine === asked.current && set(value);
    return api(collection, { query: { limit: 100 } }).then(latest((page) => setItems(page.items)), latest(setError));
  };
  useEffect(() => {
    load();
  }, [collection]);
  const pending = items?.some((a) => a.status === "pending_scan");
  useEffect(() => {
    if (!pending || polls > POLL_LIMIT) return undefined;
    const timer = setTimeout(() => load().then(() => setPolls((n) => n + 1)), POLL_MS);
    return () => clearTimeout(timer);
  }, [items]);

  const submit = async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const file = form.file.files[0];
    if (!file) return;
    setError(null);
    setProgress(0);
    try {
      const extra = publicChoice ? { is_public: form.is_public.checked } : {};
      await upload(collection, file, setProgress, extra);
      form.reset();
      setPolls(0);
      await load();
    } catch (failure) {
      setError(failure);
    } finally {
      setProgress(null);
    }
  };

  return html`<section aria-labelledby="attachments-heading">
    <h2 id="attachments-heading">Attachments</h2>
    <${Problem} error=${error} />
    ${items && items.length === 0 && html`<p>No attachments yet.</p>`}
    <ul class="attachments">
      ${(items || []).map(
        (a) => html`<li key=${a.id} data-status=${a.status}>
          ${a.status === "clean" && a.thumbnail_available && html`<${Thumbnail} attachment=${a} />`}
          <span class="name">${a.original_filename}</span>
          <span class="size">${size(a.size)}</span>
          <${Badge} value=${a.status === "pending_scan" ? "scanning" : a.status} />
          ${a.status === "clean" &&
          html`<button type="button" class="quiet" onClick=${() => download(a).catch(setError)}>
            Download<span class="visually-hidden"> ${a.original_filename}</span></button>`}
        </li>`,
      )}
    </ul>
    ${canUpload &&
    html`<form class="upload" onSubmit=${submit}>
      <label for=${inputId}>Add a file</label>
      <input id=${inputId} name="file" type="file" required />
      ${publicChoice && html`<label class="check"><input type="checkbox" name="is_public" checked /> Visible to the client</label>`}
      <button type="submit" disabled=${progress !== null}>Upload</button>
      ${progress !== null &&
      html`<progress max="1" value=${progress} aria-label="Upload progress">${Math.round(progress * 100)}%</progress>`}
    </form>`}
  </section>`;
}
