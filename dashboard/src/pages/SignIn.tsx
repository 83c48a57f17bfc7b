import { useState, type SubmitEvent } from "react";
import { Navigate, useLocation, useNavigate } from "react-router";

import { LoginUnavailableError, NetworkError, UnauthorizedError } from "@/api/client";
import { useSession } from "@/api/context";
import { Brand } from "@/components/Layout";
import { FormError, FormField } from "@/components/FormField";
import { ThemeToggle } from "@/components/ThemeToggle";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";

function messageOf(e: unknown): string {
  if (e instanceof LoginUnavailableError) return "Password sign-in is not enabled on this server: use an API token.";
  if (e instanceof UnauthorizedError || e instanceof NetworkError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

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

  if (token) return <Navigate to={from} replace />;

  const done = (t: string) => {
    signIn(t);
    void navigate(from, { replace: true });
  };

  const onToken = async (e: SubmitEvent) => {
    e.preventDefault();
    const t = apiToken.trim();
    if (!t) {
      setError("Paste an API token.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.checkToken(t);
      done(t);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const onPassword = async (e: SubmitEvent) => {
    e.preventDefault();
    if (!username || !password) {
      setError("Enter a username and a password.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const r = await api.login(username, password);
      done(r.token);
    } catch (err) {
      setError(
        err instanceof NetworkError
          ? "The server did not answer the sign-in request (password sign-in may not be enabled on this server)."
          : messageOf(err),
      );
    } finally {
      setBusy(false);
    }
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
            <CardDescription>
              {endedReason ?? "Use an API token (launchpad-apiserver token create NAME) or your username and password."}
            </CardDescription>
          </CardHeader>
          <CardContent>
            <Tabs defaultValue="token" onValueChange={() => setError(null)}>
              <TabsList className="mb-4 w-full">
                <TabsTrigger value="token">Token</TabsTrigger>
                <TabsTrigger value="password">Password</TabsTrigger>
              </TabsList>
              <TabsContent value="token">
                <form onSubmit={(e) => void onToken(e)} className="grid gap-4" noValidate>
                  <FormField id="api-token" label="API token" hint="Kept in this tab only (sessionStorage).">
                    {(p) => (
                      <Input
                        {...p}
                        type="text"
                        autoComplete="off"
                        autoCapitalize="off"
                        spellCheck={false}
                        className="font-mono [-webkit-text-security:disc]"
                        value={apiToken}
                        onChange={(e) => setApiToken(e.target.value)}
                        autoFocus
                      />
                    )}
                  </FormField>
                  <FormError message={error} />
                  <Button type="submit" disabled={busy}>
                    {busy ? "Signing in…" : "Sign in"}
                  </Button>
                </form>
              </TabsContent>
              <TabsContent value="password">
                <form onSubmit={(e) => void onPassword(e)} className="grid gap-4" noValidate>
                  <FormField id="username" label="Username">
                    {(p) => (
                      <Input {...p} autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} />
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
                  <FormError message={error} />
                  <Button type="submit" disabled={busy}>
                    {busy ? "Signing in…" : "Sign in"}
                  </Button>
                </form>
              </TabsContent>
            </Tabs>
          </CardContent>
        </Card>
      </main>
    </div>
  );
}
