/**
 * The accessible-name contract (docs/dashboard.md): the hidden browser tests find these controls by
 * role and exact name. Rendered here in jsdom against a fake API.
 */
import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createMemoryRouter, RouterProvider } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { SessionProvider } from "@/api/context";
import { makeQueryClient } from "@/api/queryClient";
import type { Deployment, Revision } from "@/api/schema";
import { ThemeProvider } from "@/hooks/use-theme";
import { routes } from "@/routes";
import { site } from "@/test/fixtures";

const live: Deployment = { ...site, slug: "alpha", name: "alpha", status: "live", phase: "live", current_revision: 2, desired_revision: 2 };
const revisions: Revision[] = [
  { revision: 2, state: "ready", trigger: "redeploy", source: "", resolved_source: "a".repeat(40), spec_hash: "", message: "", created_at: "2026-11-25T21:58:11Z", started_at: null, finished_at: null, desired: true, current: true },
  { revision: 1, state: "ready", trigger: "create", source: "", resolved_source: "b".repeat(40), spec_hash: "", message: "", created_at: "2026-11-25T21:58:11Z", started_at: null, finished_at: null, desired: false, current: false },
];

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

function fakeApi(sites: Deployment[]) {
  return vi.fn((input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url, "http://dash.test");
    const method = init?.method ?? "GET";
    const p = url.pathname;
    if (method === "GET" && p === "/api/deployments") {
      if (!url.searchParams.has("limit")) return Promise.resolve(json(200, sites));
      // kubectl-style pages, as the apiserver answers them (the token: an index here)
      const limit = Number(url.searchParams.get("limit"));
      const at = Number(url.searchParams.get("continue") ?? "0");
      const items = sites.slice(at, at + limit);
      const rest = sites.length - at - items.length;
      const metadata = rest > 0 ? { continue: String(at + items.length), remainingItemCount: rest } : {};
      return Promise.resolve(json(200, { items, metadata }));
    }
    const m = /^\/api\/deployments\/([^/]+)(\/.*)?$/.exec(p);
    const s = sites.find((x) => x.slug === m?.[1]);
    if (m && !s) return Promise.resolve(json(404, { error: { code: "not_found", message: "no such site" } }));
    if (m && s) {
      const rest = m[2] ?? "";
      if (rest === "" && method === "GET") return Promise.resolve(json(200, s));
      if (rest === "/revisions") return Promise.resolve(json(200, revisions));
      if (rest === "/logs")
        return Promise.resolve(new Response("data: building\n\nevent: end\ndata: ready\n\n", { headers: { "Content-Type": "text/event-stream" } }));
      if (rest === "/metrics") return Promise.resolve(json(200, metricsOf(s, url.searchParams.get("window") ?? "1h")));
      if (rest === "/webhook") return Promise.resolve(json(404, { error: { code: "not_found", message: "no route" } }));
      if (method === "OPTIONS") return Promise.resolve(new Response(null, { status: 404 }));
    }
    return Promise.resolve(json(404, { error: { code: "not_found", message: `no route for ${method} ${p}` } }));
  });
}

/** The metrics answer of docs/api.md: 1h has 32 requests (25 2xx, 7 4xx), the other windows none. */
function metricsOf(s: Deployment, window: string) {
  const to = Date.now();
  const step = window === "1h" ? 60 : window === "24h" ? 900 : 3600;
  const span = window === "1h" ? 3600 : window === "24h" ? 86400 : 604800;
  const from = to - span * 1000 + step * 1000;
  const byClass = (a: number, b: number) => ({ "1xx": 0, "2xx": a, "3xx": 0, "4xx": b, "5xx": 0 });
  const busy = window === "1h";
  const iso = (ms: number) => new Date(ms - (ms % 1000)).toISOString().replace(".000Z", "Z");
  return {
    name: s.name, window, from: iso(from), to: iso(to), stepSeconds: step,
    totals: {
      requests: busy ? 32 : 0, byClass: busy ? byClass(25, 7) : byClass(0, 0), bytesIn: 0, bytesOut: busy ? 4100 : 0,
      latency: { meanSeconds: 0.0012, p50Seconds: busy ? 0.005 : 0, p99Seconds: busy ? 0.01 : 0, buckets: [{ le: 0.005, count: 30 }, { le: "+Inf", count: 0 }] },
    },
    series: busy
      ? [
          { time: iso(from), requests: 20, byClass: byClass(20, 0), bytesOut: 2000, meanLatencySeconds: 0.001 },
          { time: iso(from + 30 * 60_000), requests: 12, byClass: byClass(5, 7), bytesOut: 2100, meanLatencySeconds: 0.002 },
        ]
      : [],
    revisions: { deploys: 2, failed: 0, builds: 1, buildSecondsMean: 0.4, buildSecondsMax: 0.4 },
  };
}

function renderAt(path: string) {
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  return render(
    <ThemeProvider>
      <QueryClientProvider client={makeQueryClient()}>
        <SessionProvider baseUrl="">
          <RouterProvider router={router} />
        </SessionProvider>
      </QueryClientProvider>
    </ThemeProvider>,
  );
}

beforeEach(() => {
  sessionStorage.clear();
  window.matchMedia = ((q: string) => ({ matches: false, media: q, addEventListener: () => undefined, removeEventListener: () => undefined })) as unknown as typeof window.matchMedia;
});
afterEach(() => vi.unstubAllGlobals());

describe("sign-in", () => {
  it('has a field "API token" and a button "Sign in"; a 401 token stays on sign-in', async () => {
    vi.stubGlobal("fetch", vi.fn(() => Promise.resolve(json(401, { error: { code: "unauthorized", message: "bad" } }))));
    renderAt("/");
    const field = await screen.findByRole("textbox", { name: "API token" });
    await userEvent.type(field, "wrong");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("That token was not accepted.")).toBeInTheDocument();
    expect(sessionStorage.getItem("launchpad-token")).toBeNull();
  });
});

describe("sign-in with a username and password", () => {
  function loginApi() {
    return vi.fn((input: string | URL | Request, init?: RequestInit) => {
      const p = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const method = init?.method ?? "GET";
      const auth = new Headers(init?.headers).get("Authorization");
      if (method === "POST" && p === "/api/login") {
        const body = JSON.parse(init?.body as string) as { username: string; password: string };
        if (body.username === "alice" && body.password === "correct horse")
          return Promise.resolve(json(200, { token: "lp_session", expires_at: "2026-12-02T11:00:00Z", username: "alice", role: "member" }));
        return Promise.resolve(json(401, { error: { code: "unauthorized", message: "wrong user name or password" } }));
      }
      if (method === "POST" && p === "/api/logout") return Promise.resolve(json(200, { revoked: true }));
      if (auth !== "Bearer lp_session" && auth !== "Bearer lp_admin")
        return Promise.resolve(json(401, { error: { code: "unauthorized", message: "bad" } }));
      if (p.startsWith("/api/deployments?")) return Promise.resolve(json(200, { items: [live], metadata: {} }));
      return Promise.resolve(json(404, { error: { code: "not_found", message: "no route" } }));
    });
  }
  const calls = (api: ReturnType<typeof loginApi>) =>
    api.mock.calls.map((c) => `${c[1]?.method ?? "GET"} ${c[0] as string} ${new Headers(c[1]?.headers).get("Authorization") ?? ""}`.trim());

  it('has "Username", "Password" and "Sign in"; POST /api/login; the session token is kept and sent; sign-out ends it', async () => {
    const api = loginApi();
    vi.stubGlobal("fetch", api);
    renderAt("/");
    await userEvent.type(await screen.findByRole("textbox", { name: "Username" }), "alice");
    await userEvent.type(screen.getByLabelText("Password"), "wrong");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("Wrong username or password.")).toBeInTheDocument();
    expect(sessionStorage.getItem("launchpad-token")).toBeNull();
    await userEvent.clear(screen.getByLabelText("Password"));
    await userEvent.type(screen.getByLabelText("Password"), "correct horse");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("link", { name: "alpha" })).toBeInTheDocument();
    expect(sessionStorage.getItem("launchpad-token")).toBe("lp_session");
    expect(JSON.parse(api.mock.calls[1]?.[1]?.body as string)).toEqual({ username: "alice", password: "correct horse" });
    expect(calls(api)).toContain("GET /api/deployments?limit=50 Bearer lp_session");
    await userEvent.click(screen.getByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("textbox", { name: "Username" })).toBeInTheDocument();
    expect(calls(api)).toContain("POST /api/logout Bearer lp_session");
    expect(sessionStorage.getItem("launchpad-token")).toBeNull();
  });

  it("the API token path stays (Use an API token), and signing out never revokes an API token", async () => {
    const api = loginApi();
    vi.stubGlobal("fetch", api);
    renderAt("/");
    await userEvent.click(await screen.findByRole("link", { name: "Use an API token" }));
    const field = screen.getByRole("textbox", { name: "API token" });
    expect(field).toHaveFocus();
    await userEvent.type(field, "lp_admin");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("link", { name: "alpha" })).toBeInTheDocument();
    expect(calls(api).some((c) => c.startsWith("POST /api/login"))).toBe(false);
    await userEvent.click(screen.getByRole("button", { name: "Sign out" }));
    await screen.findByRole("textbox", { name: "Username" });
    expect(calls(api).some((c) => c.startsWith("POST /api/logout"))).toBe(false);
  });
});

describe("signed in", () => {
  beforeEach(() => sessionStorage.setItem("launchpad-token", "tok"));

  it("/ lists each site as a link named after it, with per-row actions", async () => {
    vi.stubGlobal("fetch", fakeApi([live, { ...site, slug: "beta", name: "beta", status: "failed", phase: "failed" }]));
    renderAt("/");
    const link = await screen.findByRole("link", { name: "alpha" });
    expect(link).toHaveAttribute("href", "/deployments/alpha");
    expect(screen.getByRole("link", { name: "beta" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Redeploy alpha" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Delete beta" })).toBeInTheDocument();
    expect(screen.getByText("live")).toBeInTheDocument();
    expect(screen.getByText("failed")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Redeploy" })).toBeNull();
  });

  it("/ reads the list 50 at a time and offers Load more until the last page", async () => {
    const many: Deployment[] = Array.from({ length: 120 }, (_, i) => {
      const n = `site-${String(i).padStart(3, "0")}`;
      return { ...live, id: n, slug: n, name: n };
    });
    const api = fakeApi(many);
    vi.stubGlobal("fetch", api);
    renderAt("/");
    expect(await screen.findByRole("link", { name: "site-049" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "site-050" })).toBeNull();
    expect(screen.getByTestId("site-counts")).toHaveTextContent(/^120 sites \(50 shown\)/);
    const listCalls = () => api.mock.calls.map((c) => c[0] as string).filter((u) => u.startsWith("/api/deployments?"));
    expect(listCalls()).toEqual(["/api/deployments?limit=50"]);
    await userEvent.click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("link", { name: "site-099" })).toBeInTheDocument();
    expect(listCalls()).toContain("/api/deployments?limit=50&continue=50");
    // the filter searches the pages loaded so far, and says so while more remain
    await userEvent.type(screen.getByRole("searchbox", { name: "Filter sites" }), "site-11");
    expect(screen.getByTestId("page-status")).toHaveTextContent("Filtering the 100 sites loaded; 20 more not searched yet.");
    expect(screen.queryByRole("link", { name: "site-110" })).toBeNull();
    await userEvent.click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("link", { name: "site-110" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "site-099" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
    expect(listCalls().some((u) => !u.includes("limit=50"))).toBe(false);
  }, 20000);

  it("/ has an empty state", async () => {
    vi.stubGlobal("fetch", fakeApi([]));
    renderAt("/");
    expect(await screen.findByText("No sites yet")).toBeInTheDocument();
  });

  it("/new has the source tabs and the labelled fields", async () => {
    vi.stubGlobal("fetch", fakeApi([]));
    renderAt("/new");
    const upload = await screen.findByRole("tab", { name: "Upload" });
    expect(upload).toHaveAttribute("aria-selected", "true");
    expect(screen.getByLabelText("Site archive")).toHaveAttribute("type", "file");
    for (const name of ["Name", "Build command", "Output directory"]) expect(screen.getByRole("textbox", { name })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Deploy" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("tab", { name: "Git repository" }));
    expect(screen.getByRole("textbox", { name: "Repository URL" })).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Branch" })).toBeInTheDocument();
  });

  it("/new shows a client-side error beside its field", async () => {
    vi.stubGlobal("fetch", fakeApi([]));
    renderAt("/new");
    await userEvent.click(await screen.findByRole("tab", { name: "Git repository" }));
    await userEvent.type(screen.getByRole("textbox", { name: "Name" }), "ok-name");
    await userEvent.type(screen.getByRole("textbox", { name: "Repository URL" }), "https://github.com/u/r");
    await userEvent.type(screen.getByRole("textbox", { name: "Output directory" }), "../x");
    await userEvent.click(screen.getByRole("button", { name: "Deploy" }));
    const out = screen.getByRole("textbox", { name: "Output directory" });
    await waitFor(() => expect(out).toHaveAttribute("aria-invalid", "true"));
    expect(out).toHaveAccessibleDescription(/cannot leave the source/);
    expect(screen.getByRole("textbox", { name: "Name" })).not.toHaveAttribute("aria-invalid");
  });

  it("/deployments/:id has Redeploy, Delete (confirmed in a dialog), Rollback, the Build log region and the status", async () => {
    vi.stubGlobal("fetch", fakeApi([live]));
    renderAt("/deployments/alpha");
    expect(await screen.findByRole("heading", { name: "alpha" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Redeploy" })).toBeInTheDocument();
    const region = screen.getByRole("region", { name: "Build log" });
    expect(await within(region).findByText("building")).toBeInTheDocument();
    expect(await within(region).findByText(/Finished: ready/)).toBeInTheDocument();
    const rollbacks = await screen.findAllByRole("button", { name: "Rollback" });
    expect(rollbacks).toHaveLength(1); // revision 1; revision 2 is served
    expect(screen.getAllByText("live").length).toBeGreaterThan(0);
    expect(screen.queryByRole("button", { name: "Cancel" })).toBeNull();
    await userEvent.click(screen.getByRole("button", { name: "Delete" }));
    const dialog = await screen.findByRole("dialog");
    expect(within(dialog).getByRole("button", { name: "Delete" })).toBeInTheDocument();
  });

  it('/deployments/:id has "Metrics": 1h/24h/7d, a chart (role img) named by its totals, p50/p99, an empty state', async () => {
    const api = fakeApi([live]);
    vi.stubGlobal("fetch", api);
    renderAt("/deployments/alpha");
    const region = await screen.findByRole("region", { name: "Metrics" });
    expect(within(region).getByRole("heading", { name: "Metrics" })).toBeInTheDocument();
    const chart = await within(region).findByRole("img", { name: "Requests in the last 1h: 32 total, 25 2xx, 7 4xx" });
    expect(chart.querySelectorAll("rect")).toHaveLength(3); // 20 2xx in one step; 5 2xx + 7 4xx in another
    expect(within(region).getByTestId("metrics-totals")).toHaveTextContent(/Requests32/);
    expect(within(region).getByText("≤ 5 ms")).toBeInTheDocument();
    expect(within(region).getByText("≤ 10 ms")).toBeInTheDocument();
    expect(within(region).getByRole("button", { name: "1h" })).toHaveAttribute("aria-pressed", "true");
    await userEvent.click(within(region).getByRole("button", { name: "24h" }));
    expect(await within(region).findByText("No requests in this window")).toBeInTheDocument();
    expect(within(region).queryByRole("img")).toBeNull();
    expect(within(region).getByRole("button", { name: "24h" })).toHaveAttribute("aria-pressed", "true");
    const urls = api.mock.calls.map((c) => c[0] as string).filter((u) => u.includes("/metrics"));
    expect(urls).toContain("/api/deployments/alpha/metrics?window=1h");
    expect(urls).toContain("/api/deployments/alpha/metrics?window=24h");
    await userEvent.click(within(region).getByRole("button", { name: "7d" }));
    await waitFor(() => expect(api.mock.calls.map((c) => c[0] as string)).toContain("/api/deployments/alpha/metrics?window=7d"));
  });

  it("a 401 anywhere returns to sign-in", async () => {
    vi.stubGlobal("fetch", vi.fn(() => Promise.resolve(json(401, { error: { code: "unauthorized", message: "revoked" } }))));
    renderAt("/");
    expect(await screen.findByRole("textbox", { name: "API token" })).toBeInTheDocument();
    expect(screen.getByText(/session has ended/)).toBeInTheDocument();
    expect(sessionStorage.getItem("launchpad-token")).toBeNull();
  });
});
