/** The API token lives in sessionStorage: gone when the tab closes, never in localStorage. */
export const TOKEN_KEY = "launchpad-token";

export function readToken(): string | null {
  try {
    const t = sessionStorage.getItem(TOKEN_KEY);
    return t && t.trim() ? t.trim() : null;
  } catch {
    return null;
  }
}

/** Set when the token is a password sign-in's session (POST /api/login), which sign-out ends. */
export const SESSION_KEY = "launchpad-session";

export function writeToken(token: string | null, session = false): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
    if (token && session) sessionStorage.setItem(SESSION_KEY, "1");
    else sessionStorage.removeItem(SESSION_KEY);
  } catch {
    /* storage disabled: the session lasts as long as the page */
  }
}

/** Whether the token kept is a login session (an API token is never revoked by signing out). */
export function isLoginSession(): boolean {
  try {
    return sessionStorage.getItem(SESSION_KEY) === "1";
  } catch {
    return false;
  }
}
