// Small building blocks every page uses: fields with their errors, alerts, dates, badges, loading.
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";

let ids = 0;
export const uid = (prefix = "f") => `${prefix}-${++ids}`;

export function Field({ label, error, hint, children, id }) {
  const describedBy = [error && `${id}-error`, hint && `${id}-hint`].filter(Boolean).join(" ") || undefined;
  return html`<div class=${`field${error ? " invalid" : ""}`}>
    <label for=${id}>${label}</label>
    ${children({ id, "aria-describedby": describedBy, "aria-invalid": error ? "true" : undefined })}
    ${hint && html`<small id=${`${id}-hint`} class="hint">${hint}</small>`}
    ${error && html`<small id=${`${id}-error`} class="error">${error}</small>`}
  </div>`;
}

export function Problem({ error }) {
  const ref = useRef();
  useEffect(() => ref.current?.focus(), [error]);
  if (!error) return null;
  return html`<div class="alert error" role="alert" tabindex="-1" ref=${ref}>${error.message || String(error)}</div>`;
}

export function Notice({ children, kind = "info" }) {
  return html`<div class=${`alert ${kind}`} role="status">${children}</div>`;
}

export function Loading({ what = "Loading" }) {
  return html`<p class="loading" role="status">${what}…</p>`;
}

export function when(value) {
  if (!value) return "";
  return new Date(value).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function Badge({ value, kind }) {
  return html`<span class=${`badge ${kind || String(value).replace(/[^a-z_]/gi, "")}`}>${String(value).replace(/_/g, " ")}</span>`;
}

export function title(text) {
  const spaced = String(text).replace(/[-_]/g, " ");
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/**
 * Loads `load()` when `deps` change: [data, error, reload, setData, loading]. While it loads again `data` is the
 * last answer and `loading` is true (what acts on data's version waits for it); an answer for earlier deps, or
 * one a reload has replaced, is dropped.
 */
export function useLoad(load, deps = []) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ data: s.data, error: null, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => (live = false);
  }, [...deps, tick]);
  const setData = (data) => setState((s) => ({ data, error: null, loading: s.loading }));
  // loading from the call on, in the same render as the new tick: never a frame with the old data looking current
  const reload = () => {
    setState((s) => ({ ...s, loading: true }));
    setTick((t) => t + 1);
  };
  return [state.data, state.error, reload, setData, state.loading];
}

/** Sets the document title and moves focus to the page's heading (screen readers hear the new page). */
export function usePageTitle(text) {
  useEffect(() => {
    document.title = `${text} · DeskOS`;
    document.querySelector("main h1")?.focus();
  }, [text]);
}

/** The default export of a module loaded on demand (`load`: () => import(...)), given `props`. */
export function Lazy({ load, fallback, ...props }) {
  const [module, setModule] = useState(null);
  const [failed, setFailed] = useState(null);
  useEffect(() => {
    let live = true; // a page left before its module arrived must not replace the next one
    setModule(null);
    setFailed(null);
    load().then((m) => live && setModule(m), (e) => live && setFailed(e));
    return () => (live = false);
  }, [load]);
  if (failed) return html`<p role="alert">This page could not be loaded: ${failed.message}</p>`;
  return module ? html`<${module.default} ...${props} />` : fallback || html`<${Loading} />`;
}
