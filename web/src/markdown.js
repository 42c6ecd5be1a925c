// Markdown as text: headings, paragraphs, lists, emphasis and code, built as elements (never as HTML strings),
// so an article can carry no markup or script of its own.
import { html } from "htm/preact";

function inline(text) {
  const parts = [];
  const pattern = /(\*\*[^*]+\*\*|`[^`]+`|\*[^*]+\*)/g;
  let last = 0;
  for (const found of text.matchAll(pattern)) {
    parts.push(text.slice(last, found.index));
    const token = found[0];
    if (token.startsWith("**")) parts.push(html`<strong>${token.slice(2, -2)}</strong>`);
    else if (token.startsWith("`")) parts.push(html`<code>${token.slice(1, -1)}</code>`);
    else parts.push(html`<em>${token.slice(1, -1)}</em>`);
    last = found.index + token.length;
  }
  parts.push(text.slice(last));
  return parts;
}

export function Markdown({ text }) {
  const blocks = String(text).split(/\n{2,}/);
  return html`<div class="markdown">${blocks.map((block) => {
    const lines = block.split("\n");
    const heading = /^(#{1,4})\s+(.*)$/.exec(block);
    if (heading) {
      const level = Math.min(heading[1].length + 1, 5);
      return html`<${`h${level}`}>${inline(heading[2])}<//>`;
    }
    if (lines.every((l) => /^\s*[-*]\s+/.test(l))) return html`<ul>${lines.map((l) => html`<li>${inline(l.replace(/^\s*[-*]\s+/, ""))}</li>`)}</ul>`;
    if (lines.every((l) => /^\s*\d+\.\s+/.test(l))) return html`<ol>${lines.map((l) => html`<li>${inline(l.replace(/^\s*\d+\.\s+/, ""))}</li>`)}</ol>`;
    return html`<p>${inline(block)}</p>`;
  })}</div>`;
}
