// The frame around signed-in pages: skip link, the firm's name and colour, navigation, sign-out.
import { html } from "htm/preact";
import { useEffect } from "preact/hooks";
import { signOut } from "./auth.js";
import { Link, navigate } from "./router.js";

/** The firm's accent colour, as branding sets it; text stays dark or light enough to read on it. */
export function applyBranding(branding) {
  const colour = branding?.colour;
  if (!colour || !/^#[0-9a-f]{6}$/i.test(colour)) return;
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16) / 255);
  const lin = (c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const luminance = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  document.documentElement.style.setProperty("--brand", colour);
  document.documentElement.style.setProperty("--on-brand", luminance > 0.18 ? "#111111" : "#ffffff");
}

export function Shell({ user, name, links, where, children }) {
  useEffect(() => {
    document.documentElement.lang = "en";
  }, []);
  const leave = () => {
    navigate("/app/sign-in", { replace: true }); // first: leaving a signed-in page would ask to sign in again
    return signOut();
  };
  return html`<a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <span class="brand">${name || "DeskOS"}</span>
      <nav aria-label="Main">
        <ul>
          ${links.map(
            (l) => html`<li><${Link} href=${l.href}
              aria-current=${where.path === l.href || where.path.startsWith(`${l.href}/`) ? "page" : undefined}>${l.label}<//></li>`,
          )}
        </ul>
      </nav>
      <span class="who">${user.email}</span>
      <button type="button" class="quiet" onClick=${leave}>Sign out</button>
    </header>
    <main id="main" tabindex="-1">${children}</main>`;
}
