// Answer a satisfaction survey from its emailed link: the scale (NPS 0–10, CSAT 1–5, CES 1–7), an optional
// comment, then thanks; a second answer is refused by the API and the page says it was already answered.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { Problem, usePageTitle } from "../ui.js";
import { claims, explain, LinkPage, TEXTS, tokenOf } from "./token.js";

const SCALES = {
  nps: { low: 0, high: 10, question: "How likely are you to recommend us to a friend or colleague?", ends: ["Not at all likely", "Extremely likely"] },
  csat: { low: 1, high: 5, question: "How satisfied are you with how we handled your request?", ends: ["Very dissatisfied", "Very satisfied"] },
  ces: { low: 1, high: 7, question: "How easy was it to get your request resolved?", ends: ["Very difficult", "Very easy"] },
};

export default function Survey({ where }) {
  const token = tokenOf(where);
  const extra = claims(token)?.x || {};
  const scale = SCALES[extra.kind] || SCALES.nps;
  const [score, setScore] = useState(null);
  const [state, setState] = useState(token ? "asking" : "invalid");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  usePageTitle(state === "thanks" ? "Thank you" : "How did we do?");

  const submit = async (event) => {
    event.preventDefault();
    if (score === null) return setError(new Error("Choose a score first."));
    setBusy(true);
    setError(null);
    try {
      await api("/support/survey-responses", {
        method: "POST",
        auth: false,
        query: { token },
        body: { score, comment: event.currentTarget.comment.value.trim() || null },
      });
      setState("thanks");
    } catch (failure) {
      const why = explain(failure);
      if (why === "failed") setError(failure);
      else setState(why);
    } finally {
      setBusy(false);
    }
  };

  if (state === "thanks") {
    return html`<${LinkPage} heading="Thank you!"><p>Your answer was recorded. It helps us serve you better.</p><//>`;
  }
  if (state === "already") {
    return html`<${LinkPage} heading="Already answered"><p>This survey has already been answered. Thank you!</p><//>`;
  }
  if (state !== "asking") return html`<${LinkPage} heading="Survey"><p role="alert">${TEXTS[state]}</p><//>`;
  const scores = [];
  for (let n = scale.low; n <= scale.high; n++) scores.push(n);
  return html`<${LinkPage} heading="How did we do?">
    <form onSubmit=${submit} class="card">
      <${Problem} error=${error} />
      <fieldset class="scale">
        <legend>${extra.question || scale.question}</legend>
        <div class="scores">
          ${scores.map(
            (n) => html`<label class=${`score${score === n ? " chosen" : ""}`}>
              <input type="radio" name="score" value=${n} checked=${score === n} onChange=${() => setScore(n)} />
              <span>${n}</span></label>`,
          )}
        </div>
        <div class="ends" aria-hidden="true"><span>${scale.ends[0]}</span><span>${scale.ends[1]}</span></div>
      </fieldset>
      <div class="field">
        <label for="survey-comment">${extra.follow_up || "Anything you would like to add? (optional)"}</label>
        <textarea id="survey-comment" name="comment" rows="4" maxlength="5000"></textarea>
      </div>
      <button type="submit" class="primary" disabled=${busy}>Send my answer</button>
    </form>
  <//>`;
}
