// Knowledge for clients: search the published public articles and read one.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { Link, match } from "../router.js";
import { Loading, Problem, useLoad, usePageTitle } from "../ui.js";
import { Markdown } from "../markdown.js";

function Article({ id }) {
  const [item, error] = useLoad(() => api(`/knowledge/items/${id}`), [id]);
  usePageTitle(item?.title || "Article");
  if (error) return html`<${Problem} error=${error} />`;
  if (!item) return html`<${Loading} />`;
  return html`<article><h1 tabindex="-1">${item.title}</h1><${Markdown} text=${item.body || ""} />
    <p><${Link} href="/app/portal/knowledge">All articles<//></p></article>`;
}

export default function Knowledge({ where }) {
  const params = match("/app/portal/knowledge/:id", where.path);
  const [text, setText] = useState(where.query.get("q") || "");
  const [query, setQuery] = useState(text);
  const [page, error] = useLoad(
    () => (query ? api("/knowledge/search", { query: { q: query, limit: 25 } }) : api("/knowledge/items", { query: { limit: 25 } })),
    [query],
  );
  usePageTitle("Knowledge");
  if (params) return html`<${Article} id=${params.id} />`;
  return html`<h1 tabindex="-1">Knowledge</h1>
    <form role="search" class="toolbar" onSubmit=${(e) => (e.preventDefault(), setQuery(text))}>
      <label for="kb-search">Search articles</label>
      <input id="kb-search" type="search" value=${text} onInput=${(e) => setText(e.currentTarget.value)} />
      <button type="submit">Search</button>
    </form>
    <${Problem} error=${error} />
    ${!page && !error && html`<${Loading} />`}
    ${page && page.items.length === 0 && html`<p>No articles found.</p>`}
    <ul class="cards">${(page?.items || []).map(
      (a) => html`<li class="card" key=${a.id}><${Link} href=${`/app/portal/knowledge/${a.id}`}>${a.title}<//>
        ${a.category && html`<div class="meta">${a.category}</div>`}</li>`,
    )}</ul>`;
}
