// Unsubscribe from marketing email: the page confirms whom the link is for, one click unsubscribes.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { loadContract } from "../contract.js";
import { Loading, Problem, useLoad, usePageTitle } from "../ui.js";
import { explain, LinkPage, publicOperation, TEXTS, tokenOf, withToken } from "./token.js";

export default function Unsubscribe({ where }) {
  const token = tokenOf(where);
  const [doc] = useLoad(loadContract, []);
  const op = doc && publicOperation(doc, "post", /unsubscribe/);
  const about = doc && publicOperation(doc, "get", /unsubscribe/);
  // what the link is about (the firm, the masked address); reading it changes nothing
  const [info, infoError] = useLoad(
    () => (about ? api(about.path, { auth: false, ...withToken(about, token) }) : Promise.resolve(null)),
    [about?.path],
  );
  const [state, setState] = useState("asking");
  const [error, setError] = useState(null);
  usePageTitle("Unsubscribe");
  if (!doc) return html`<${LinkPage} heading="Unsubscribe"><${Loading} /><//>`;
  if (!op) return html`<${LinkPage} heading="Unsubscribe"><p role="alert">Unsubscribing by link is not available yet.</p><//>`;
  const confirm = async () => {
    setError(null);
    try {
      await api(op.path, { method: "POST", auth: false, ...withToken(op, token) });
      setState("done");
    } catch (failure) {
      const why = explain(failure);
      if (why === "failed") setError(failure);
      else setState(why === "already" ? "done" : why);
    }
  };
  if (infoError && explain(infoError) !== "failed") {
    return html`<${LinkPage} heading="Unsubscribe"><p role="alert">${TEXTS[explain(infoError)]}</p><//>`;
  }
  if (state === "done" || info?.unsubscribed) {
    return html`<${LinkPage} heading="You are unsubscribed"><p>You will receive no more marketing email from us.
      Emails about your own requests still reach you.</p><//>`;
  }
  if (state !== "asking") return html`<${LinkPage} heading="Unsubscribe"><p role="alert">${TEXTS[state]}</p><//>`;
  return html`<${LinkPage} heading="Unsubscribe">
    <${Problem} error=${error} />
    <p>Stop receiving marketing email${info ? ` from ${info.firm} at ${info.email}` : " from us"}?</p>
    <button type="button" class="primary" onClick=${confirm}>Unsubscribe</button>
  <//>`;
}
