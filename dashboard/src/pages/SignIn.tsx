import { useRef, useState, type MouseEvent, type SubmitEvent } from "react";
import { Navigate, useLocation, useNavigate } from "react-router";

import { LoginUnavailableError, NetworkError, UnauthorizedError } from "@/api/client";
import { useSession } from "@/api/context";
import { Brand } from "@/components/Layout";
import { FormError, FormField } from "@/components/FormField";
import { ThemeToggle } from "@/components/ThemeToggle";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";

function messageOf(e: unknown): string {
  if (e instanceof LoginUnavailableError) return "Password sign-in is not enabled on this server: use an API token.";
  if (e instanceof UnauthorizedError || e instanceof NetworkError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/**
 * One form, two ways in: a username and password (POST /api/login, issue 17's sessions), or an
 * API token (the admin token, `token create`, a personal token). A token typed in wins: a password
 * manager fills the username and password by itself, a token is only there when pasted.
 */
export function SignInPage() {
  const { token, endedReason, signIn, api } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? "/";
  const [apiToken, setApiToken] = useState("");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const tokenRef = useRef<HTMLInputElement>(null);

  if (token) return <Navigate to={from} replace />;

  const done = (t: string, session = false) => {
    signIn(t, session);
    void navigate(from, { replace: true });
  };

  const withToken = async (t: string) => {
    await api.checkToken(t);
    done(t);
  };

  const withPassword = async () => {
    try {
      const r = await api.login(username.trim(), password);
      done(r.token, true);
    } catch (err) {
      if (err instanceof NetworkError)
        throw new Error("The server did not answer the sign-in request (password sign-in may not be enabled on this server).");
      throw err;
    }
  };

  const onSubmit = async (e: SubmitEvent) => {
    e.preventDefault();
    const t = apiToken.trim();
    if (!t && (!username.trim() || !password)) {
      setError(username.trim() || password ? "Enter both your username and your password." : "Enter your username and password, or an API token.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await (t ? withToken(t) : withPassword());
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const focusToken = (e: MouseEvent) => {
    e.preventDefault();
    tokenRef.current?.focus();
  };

  return (
    <div className="grid min-h-dvh place-items-center px-4 py-10">
      <div className="absolute top-3 right-3">
        <ThemeToggle />
      </div>
      <main className="grid w-full max-w-sm gap-6">
        <div className="flex justify-center">
          <Brand />
        </div>
        <Card>
          <CardHeader>
            <CardTitle>
              <h1>Sign in</h1>
            </CardTitle>
            <CardDescription>{endedReason ?? "With your username and password, or with an API token."}</CardDescription>
          </CardHeader>
          <CardContent>
            <form onSubmit={(e) => void onSubmit(e)} className="grid gap-4" noValidate>
              <FormField id="username" label="Username">
                {(p) => (
                  <Input
                    {...p}
                    autoComplete="username"
                    autoCapitalize="off"
                    spellCheck={false}
                    value={username}
                    onChange={(e) => setUsername(e.target.value)}
                    autoFocus
                  />
                )}
              </FormField>
              <FormField id="password" label="Password">
                {(p) => (
                  <Input
                    {...p}
                    type="password"
                    autoComplete="current-password"
                    value={password}
                    onChange={(e) => setPassword(e.target.value)}
                  />
                )}
              </FormField>
              <div className="text-muted-foreground flex items-center gap-3 text-xs">
                <span aria-hidden="true" className="bg-border h-px flex-1" />
                <a href="#api-token" onClick={focusToken} className="hover:text-foreground underline underline-offset-4">
                  Use an API token
                </a>
                <span aria-hidden="true" className="bg-border h-px flex-1" />
              </div>
              <FormField
                id="api-token"
                label="API token"
                hint="Instead of a password: launchpad-apiserver token create NAME, or a personal token. Kept in this tab only (sessionStorage)."
              >
                {(p) => (
                  <Input
                    {...p}
                    ref={tokenRef}
                    type="text"
                    autoComplete="off"
                    autoCapitalize="off"
                    spellCheck={false}
                    className="font-mono [-webkit-text-security:disc]"
                    value={apiToken}
                    onChange={(e) => setApiToken(e.target.value)}
                  />
                )}
              </FormField>
              <FormError message={error} />
              <Button type="submit" disabled={busy}>
                {busy ? "Signing in…" : "Sign in"}
              </Button>
            </form>
          </CardContent>
        </Card>
      </main>
    </div>
  );
}
