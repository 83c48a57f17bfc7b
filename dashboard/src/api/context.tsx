/**
 * The session: the token, the API client bound to it, and what a 401 does (back to sign-in).
 */
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";

import { API_BASE_URL } from "@/lib/config";
import { isLoginSession, readToken, writeToken } from "@/lib/session";
import { createApiClient, type ApiClient } from "./client";

interface Session {
  token: string | null;
  /** Why the last session ended, for the sign-in page ("Your session has ended"). */
  endedReason: string | null;
  /** `session`: the token is a login session's (POST /api/login), not an API token. */
  signIn: (token: string, session?: boolean) => void;
  signOut: (reason?: string) => void;
  /** The user's own sign-out: a login session is also ended on the server (POST /api/logout). */
  logOut: () => void;
  api: ApiClient;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children, baseUrl = API_BASE_URL }: { children: ReactNode; baseUrl?: string }) {
  const queryClient = useQueryClient();
  const [token, setToken] = useState<string | null>(readToken);
  const [endedReason, setEndedReason] = useState<string | null>(null);

  const signOut = useCallback(
    (reason?: string) => {
      writeToken(null);
      setToken(null);
      setEndedReason(reason ?? null);
      queryClient.cancelQueries().catch(() => undefined);
      queryClient.clear();
    },
    [queryClient],
  );

  const signIn = useCallback((t: string, session = false) => {
    writeToken(t, session);
    setEndedReason(null);
    setToken(t);
  }, []);

  const api = useMemo(
    () =>
      createApiClient({
        baseUrl,
        getToken: readToken,
        onUnauthorized: () => signOut("Your session has ended or the token was revoked: sign in again."),
      }),
    [baseUrl, signOut],
  );

  const logOut = useCallback(() => {
    // never for an API token: POST /api/logout revokes the token it is called with
    if (isLoginSession()) void api.logout();
    signOut();
  }, [api, signOut]);

  const value = useMemo(
    () => ({ token, endedReason, signIn, signOut, logOut, api }),
    [token, endedReason, signIn, signOut, logOut, api],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

// eslint-disable-next-line react-refresh/only-export-components
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside SessionProvider");
  return s;
}

// eslint-disable-next-line react-refresh/only-export-components
export function useApi(): ApiClient {
  return useSession().api;
}
