// Sign-in against the Cognito user pool, as the AWS SDK would call it (USER_PASSWORD_AUTH, the new-password
// challenge, REFRESH_TOKEN_AUTH, GlobalSignOut), without the SDK: three JSON calls are not worth 100 KB.
import { config } from "./config.js";

const KEY = "deskos.session";
const REFRESH_MARGIN_S = 60;
const listeners = new Set();

export class AuthError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

async function cognito(action, body) {
  const response = await fetch(config().cognitoEndpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
    },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const code = String(data.__type || "").split("#").pop();
    throw new AuthError(MESSAGES[code] || data.message || "The sign-in service did not answer.", code);
  }
  return data;
}

const MESSAGES = {
  NotAuthorizedException: "Wrong email or password.",
  UserNotFoundException: "Wrong email or password.",
  InvalidPasswordException: "That password does not meet the rules: at least 8 characters with upper and lower case letters, a digit and a symbol.",
  PasswordResetRequiredException: "Your password must be reset: ask your administrator.",
};

export function decode(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const text = atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "="));
  return JSON.parse(decodeURIComponent(escape(text)));
}

function read() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || null;
  } catch {
    return null;
  }
}

function store(result, username) {
  const previous = read();
  const session = {
    username,
    idToken: result.IdToken,
    accessToken: result.AccessToken,
    refreshToken: result.RefreshToken || previous?.refreshToken,
  };
  localStorage.setItem(KEY, JSON.stringify(session));
  listeners.forEach((listener) => listener());
  return session;
}

export function onSessionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The signed-in user: claims of the id token, and the roles it grants (managers ⊃ staff). */
export function currentUser() {
  const session = read();
  if (!session) return null;
  const claims = decode(session.idToken);
  const groups = claims["cognito:groups"] || [];
  const roles = new Set(groups);
  if (roles.has("managers")) roles.add("staff");
  return { claims, roles, username: session.username, email: claims.email || session.username };
}

/** Either signs in, or answers {challenge, session} when an invited user must choose a password. */
export async function signIn(username, password) {
  const result = await cognito("InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: config().userPoolClientId,
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
  if (result.ChallengeName) return { challenge: result.ChallengeName, session: result.Session, username };
  store(result.AuthenticationResult, username);
  return {};
}

export async function choosePassword(username, session, newPassword) {
  const result = await cognito("RespondToAuthChallenge", {
    ChallengeName: "NEW_PASSWORD_REQUIRED",
    ClientId: config().userPoolClientId,
    Session: session,
    ChallengeResponses: { USERNAME: username, NEW_PASSWORD: newPassword },
  });
  store(result.AuthenticationResult, username);
}

let refreshing = null;

async function refresh(session) {
  const result = await cognito("InitiateAuth", {
    AuthFlow: "REFRESH_TOKEN_AUTH",
    ClientId: config().userPoolClientId,
    AuthParameters: { REFRESH_TOKEN: session.refreshToken },
  });
  return store(result.AuthenticationResult, session.username);
}

/** A valid id token, refreshed when it expires within a minute; null when signed out. */
export async function idToken({ force = false } = {}) {
  const session = read();
  if (!session) return null;
  const expires = decode(session.idToken).exp;
  if (!force && expires - Date.now() / 1000 > REFRESH_MARGIN_S) return session.idToken;
  if (!session.refreshToken) return null;
  refreshing = refreshing || refresh(session).finally(() => (refreshing = null));
  try {
    return (await refreshing).idToken;
  } catch {
    forget();
    return null;
  }
}

function forget() {
  localStorage.removeItem(KEY);
  listeners.forEach((listener) => listener());
}

/** Forgets the session here at once, then signs out everywhere (the pool revokes the refresh token). */
export async function signOut() {
  const session = read();
  forget();
  if (session?.accessToken) {
    await cognito("GlobalSignOut", { AccessToken: session.accessToken }).catch(() => {});
  }
}
