// Vote in a meeting poll from its emailed link (`/app/vote?token=…&poll=<id>`): the poll read through
// `GET …/{poll_id}/ballot?token=`, each slot in the voter's own time zone (the browser's), yes / if need be / no;
// voting again replaces the vote. A closed poll (or one past its deadline: the API answers 409) says so.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { Loading, Problem, useLoad, usePageTitle, when } from "../ui.js";
import { claims, explain, LinkPage, TEXTS, tokenOf } from "./token.js";

export const ANSWERS = [
  ["yes", "Yes"],
  ["if_need_be", "If need be"],
  ["no", "No"],
];
const SAID = Object.fromEntries(ANSWERS);
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function slotText(slot) {
  const start = new Date(slot.start);
  const end = new Date(slot.end);
  const day = start.toLocaleDateString(undefined, { weekday: "long", day: "numeric", month: "long" });
  const time = (d) => d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  return `${day}, ${time(start)}–${time(end)}`;
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
    ${poll.slots.map(
      (slot) => html`<fieldset class="slot" key=${slot.id}>
        <legend>${slotText(slot)}</legend>
        ${ANSWERS.map(
          ([value, label]) => html`<label class="check">
            <input type="radio" name=${`slot-${slot.id}`} value=${value} checked=${choices[slot.id] === value}
              onChange=${() => setChoices({ ...choices, [slot.id]: value })} /> ${label}</label>`,
        )}
      </fieldset>`,
    )}
    <button type="submit" class="primary" disabled=${busy}>Send my vote</button>
  </form>`;
}

/** The vote the API takes: per slot id, yes / if_need_be / no (a slot left out is no). */
export function votesBody(poll, choices) {
  return { choices: Object.fromEntries(poll.slots.map((slot) => [slot.id, choices[slot.id] || "no"])) };
}

function Summary({ poll, choices }) {
  return html`<ul class="vote-summary">
    ${poll.slots.map((slot) => html`<li key=${slot.id}>${slotText(slot)}: <strong>${SAID[choices[slot.id] || "no"]}</strong></li>`)}
  </ul>`;
}

const closed = (poll) => poll.status !== "open" || new Date(poll.deadline) <= new Date();

export default function Vote({ where }) {
  const token = tokenOf(where);
  const pollId = where.query.get("poll") || claims(token)?.s || ""; // the token's subject is the poll too
  const path = `/calendar/meeting-polls/${encodeURIComponent(pollId)}`;
  const [poll, loadError] = useLoad(
    () => (token && pollId ? api(`${path}/ballot`, { auth: false, query: { token } }) : Promise.reject(new Error("no token"))),
    [],
  );
  const [state, setState] = useState("asking");
  const [mine, setMine] = useState(null); // the choices sent from this page, once sent
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  usePageTitle(poll?.title || "Meeting poll");

  if (loadError) {
    const why = loadError.status ? explain(loadError) : "invalid";
    return html`<${LinkPage} heading="Meeting poll"><p role="alert">${TEXTS[why === "already" ? "failed" : why]}</p><//>`;
  }
  if (!poll) return html`<${LinkPage} heading="Meeting poll"><${Loading} /><//>`;
  const choices = mine || poll.choices;
  if (state === "closed" || closed(poll)) {
    return html`<${LinkPage} heading="Voting has closed">
      <p role="status">The meeting poll “${poll.title}” is closed: votes are no longer taken.</p>
      ${choices && html`<p>Your vote:</p><${Summary} poll=${poll} choices=${choices} />`}<//>`;
  }
  const send = async (chosen) => {
    setBusy(true);
    setError(null);
    try {
      const ballot = await api(`${path}/vote`, { method: "POST", auth: false, query: { token }, body: votesBody(poll, chosen) });
      setMine(ballot.choices);
      setState("thanks");
    } catch (failure) {
      if (failure.status === 409) setState("closed");
      else setError(failure);
    } finally {
      setBusy(false);
    }
  };
  if (state === "thanks") {
    return html`<${LinkPage} heading="Thank you for voting">
      <p role="status">Your vote for “${poll.title}” was recorded. You can change it with the same link until ${when(poll.deadline)}.</p>
      <${Summary} poll=${poll} choices=${choices} />
      <button type="button" onClick=${() => setState("asking")}>Change my vote</button><//>`;
  }
  return html`<${LinkPage} heading=${poll.title}>
    <p>Hello ${poll.invitee_name}: ${poll.organizer_name} asks when you can meet (${poll.duration_minutes} minutes).
      Voting closes ${when(poll.deadline)}.</p>
    ${poll.description && html`<p>${poll.description}</p>`}
    ${poll.choices && !mine && html`<p>You have voted already: change any answer and send again.</p>`}
    <${Problem} error=${error} />
    <${Ballot} poll=${poll} choices=${choices} onVote=${send} busy=${busy} />
  <//>`;
}
