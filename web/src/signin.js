// Sign-in: email and password; an invited user's first sign-in asks for a new password.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { choosePassword, currentUser, signIn } from "./auth.js";
import { home, navigate } from "./router.js";
import { Field, Problem, usePageTitle } from "./ui.js";

export default function SignIn({ where }) {
  const [challenge, setChallenge] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  usePageTitle(challenge ? "Choose a password" : "Sign in");

  const done = () => {
    const next = where.query.get("next");
    navigate(next && next.startsWith("/app/") ? next : home(currentUser()), { replace: true });
  };
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      if (challenge) {
        if (form.get("password") !== form.get("confirm")) throw new Error("The two passwords differ.");
        await choosePassword(challenge.username, challenge.session, form.get("password"));
        done();
      } else {
        const answer = await signIn(String(form.get("email")).trim(), form.get("password"));
        if (answer.challenge === "NEW_PASSWORD_REQUIRED") setChallenge(answer);
        else if (answer.challenge) throw new Error(`This sign-in needs a step the app does not offer (${answer.challenge}).`);
        else done();
      }
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return html`<main id="main" class="narrow">
    <h1 tabindex="-1">${challenge ? "Choose a password" : "Sign in to DeskOS"}</h1>
    ${challenge && html`<p>Welcome! This is your first sign-in: choose the password you will use from now on.</p>`}
    <${Problem} error=${error} />
    <form onSubmit=${submit} class="card" key=${challenge ? "new" : "sign-in"}>
      ${challenge
        ? html`<${Field} label="New password" id="new-password">${(a) =>
              html`<input ...${a} name="password" type="password" autocomplete="new-password" required minlength="8" />`}<//>
            <${Field} label="Repeat the new password" id="confirm-password">${(a) =>
              html`<input ...${a} name="confirm" type="password" autocomplete="new-password" required minlength="8" />`}<//>`
        : html`<${Field} label="Email" id="email">${(a) =>
              html`<input ...${a} name="email" type="email" autocomplete="username" required />`}<//>
            <${Field} label="Password" id="password">${(a) =>
              html`<input ...${a} name="password" type="password" autocomplete="current-password" required />`}<//>`}
      <button type="submit" class="primary" disabled=${busy}>${challenge ? "Save and sign in" : "Sign in"}</button>
    </form>
  </main>`;
}
