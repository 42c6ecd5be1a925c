// Vote in a meeting poll from its emailed link: each slot in the voter's own time zone, yes / if need be / no;
// voting again replaces the vote.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { loadContract } from "../contract.js";
import { Loading, Problem, useLoad, usePageTitle } from "../ui.js";
import { claims, explain, LinkPage, publicOperation, TEXTS, tokenOf, withToken } from "./token.js";

const fill = (path, id) => path.replace(/\{[^}]+\}/, encodeURIComponent(id));

export const ANSWERS = [
  ["yes", "Yes"],
  ["if_need_be", "If need be"],
  ["no", "No"],
];
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function slotText(slot) {
  const start = new Date(slot.start);
  const end = new Date(slot.end);
  const day = start.toLocaleDateString(undefined, { weekday: "long", day: "numeric", month: "long" });
  const time = (d) => d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  return `${day}, ${time(start)}–${time(end)}`;
}

export function slotKey(slot, index) {
  return slot.id || slot.slot_id || String(index);
}

/** The slots with a yes / if need be / no choice each; `onVote(choices)` sends them. */
export function Ballot({ poll, choices: initial, onVote, busy }) {
  const [choices, setChoices] = useState(initial || {});
  const submit = (event) => {
    event.preventDefault();
    onVote(choices);
  };
  return html`<form class="card" onSubmit=${submit}>
    <p>Times are shown in your time zone (${zone}).</p>
    ${(poll.slots || []).map((slot, i) => {
      const key = slotKey(slot, i);
      return html`<fieldset class="slot" key=${key}>
        <legend>${slotText(slot)}</legend>
        ${ANSWERS.map(
          ([value, label]) => html`<label class="check">
            <input type="radio" name=${`slot-${key}`} value=${value} checked=${choices[key] === value}
              onChange=${() => setChoices({ ...choices, [key]: value })} /> ${label}</label>`,
        )}
      </fieldset>`;
    })}
    <button type="submit" class="primary" disabled=${busy}>Send my vote</button>
  </form>`;
}

/** The vote the API takes: per slot id, yes / if_need_be / no (a slot left out is no). */
export function votesBody(poll, choices) {
  return { choices: Object.fromEntries((poll.slots || []).map((slot, i) => [slotKey(slot, i), choices[slotKey(slot, i)] || "no"])) };
}

export default function Vote({ where }) {
  const token = tokenOf(where);
  const [doc] = useLoad(loadContract, []);
  const pollId = claims(token)?.s || ""; // the link's token names the poll
  const read = doc && publicOperation(doc, "get", /meeting-polls/);
  const vote = doc && publicOperation(doc, "post", /meeting-polls\/\{[^}]+\}\/vote$/);
  const [poll, loadError] = useLoad(
    () => (read ? api(fill(read.path, pollId), { auth: false, ...withToken(read, token) }) : Promise.resolve(null)),
    [read?.path],
  );
  const [state, setState] = useState("asking");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  usePageTitle(poll?.title || "Meeting poll");

  if (!doc) return html`<${LinkPage} heading="Meeting poll"><${Loading} /><//>`;
  if (!read || !vote) return html`<${LinkPage} heading="Meeting poll"><p role="alert">Voting by link is not available yet.</p><//>`;
  if (loadError) return html`<${LinkPage} heading="Meeting poll"><p role="alert">${TEXTS[explain(loadError)] || loadError.message}</p><//>`;
  if (!poll) return html`<${LinkPage} heading="Meeting poll"><${Loading} /><//>`;
  const send = async (choices) => {
    setBusy(true);
    setError(null);
    try {
      await api(fill(vote.path, pollId), {
        method: "POST",
        auth: false,
        ...withToken(vote, token, votesBody(poll, choices)),
      });
      setState("thanks");
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  if (state === "thanks") {
    return html`<${LinkPage} heading="Thank you for voting">
      <p>Your vote for “${poll.title}” was recorded. You can change it with the same link until the poll closes.</p>
      <button type="button" onClick=${() => setState("asking")}>Change my vote</button><//>`;
  }
  const mine = poll.choices || poll.my_choices || {};
  return html`<${LinkPage} heading=${poll.title || "Meeting poll"}>
    ${poll.description && html`<p>${poll.description}</p>`}
    <${Problem} error=${error} />
    <${Ballot} poll=${poll} choices=${mine} onVote=${send} busy=${busy} />
  <//>`;
}
