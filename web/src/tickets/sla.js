// A ticket's SLA clock as a badge: the next running target's countdown, or that it was breached.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";

const LABELS = { first_response: "first response", next_response: "next response", resolution: "resolution" };

function span(ms) {
  const minutes = Math.round(Math.abs(ms) / 60000);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** The clock that matters most: a breached one, else the running one due first. */
export function slaStatus(sla, now = Date.now()) {
  const clocks = Object.entries(sla?.metrics || {}).map(([name, clock]) => ({ name, ...clock }));
  const breached = clocks.find((c) => c.breached && c.state !== "fulfilled");
  if (breached) return { kind: "breached", text: `${LABELS[breached.name] || breached.name} breached` };
  const running = clocks.filter((c) => c.state === "running" && c.due_at).sort((a, b) => (a.due_at < b.due_at ? -1 : 1))[0];
  if (!running) return sla?.phase === "paused" ? { kind: "paused", text: "SLA paused" } : null;
  const left = Date.parse(running.due_at) - now;
  const label = LABELS[running.name] || running.name;
  if (left < 0) return { kind: "breached", text: `${label} overdue ${span(left)}` };
  const warn = running.warn_at && Date.parse(running.warn_at) <= now;
  return { kind: warn ? "warning" : "ok", text: `${label} due in ${span(left)}` };
}

export function SlaBadge({ sla }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30000);
    return () => clearInterval(timer);
  }, []);
  const status = slaStatus(sla, now);
  return status ? html`<span class=${`badge sla-${status.kind}`}>${status.text}</span>` : null;
}
