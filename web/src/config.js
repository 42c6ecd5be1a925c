// The deployment's settings, written next to the app: where the API and the user pool are.
let loaded = null;

export async function loadConfig() {
  if (!loaded) {
    const response = await fetch("/app/config.json", { cache: "no-store" });
    if (!response.ok) throw new Error(`config.json: ${response.status}`);
    loaded = await response.json();
  }
  return loaded;
}

export function config() {
  return loaded;
}
