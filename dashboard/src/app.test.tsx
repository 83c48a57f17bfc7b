/**
 * Dynamic apps on the site page (issue 18), against a fake API whose app log is a stream the test
 * writes to: the App card, the CrashLoopBackOff / HealthCheckFailed badges, and "App logs" with
 * its Follow switch and bounded buffer. (The backend's ?source=app route is being built in
 * parallel: this is the contract the dashboard is built against.)
 */
import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createMemoryRouter, RouterProvider } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { SessionProvider } from "@/api/context";
import { makeQueryClient } from "@/api/queryClient";
import type { Deployment } from "@/api/schema";
import { ThemeProvider } from "@/hooks/use-theme";
import { appendBounded, APP_LOG_MAX_LINES } from "@/lib/app";
import { routes } from "@/routes";
import { site } from "@/test/fixtures";

const app: Deployment = {
  ...site,
  slug: "node-app",
  name: "node-app",
  status: "live",
  phase: "live",
  current_revision: 1,
  desired_revision: 1,
  spec: {
    ...site.spec!,
    metadata: { name: "node-app" },
    spec: {
      ...site.spec!.spec,
      run: {
        command: "node server.js",
        port: 3000,
        healthCheck: { path: "/healthz", intervalSeconds: 2, timeoutSeconds: 1, startSeconds: 10 },
        env: { PORT: "3000" },
        resources: { memoryMiB: 256, cpus: 0.5 },
      },
    },
  },
};

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** One open app-log connection: the test writes SSE text into it, and sees when it is aborted. */
interface Conn {
  url: string;
  write: (text: string) => void;
  aborted: () => boolean;
}

function fakeApi(s: Deployment) {
  const conns: Conn[] = [];
  const enc = new TextEncoder();
  const fetch = vi.fn((input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const p = new URL(url, "http://dash.test");
    if (p.pathname === `/api/deployments/${s.slug}` && (init?.method ?? "GET") === "GET") return Promise.resolve(json(200, s));
    if (p.pathname.endsWith("/revisions")) return Promise.resolve(json(200, []));
    if (p.pathname.endsWith("/logs") && p.searchParams.get("source") === "app") {
      let ctrl!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({ start: (c) => (ctrl = c) });
      const signal = init?.signal;
      signal?.addEventListener("abort", () => ctrl.error(new DOMException("aborted", "AbortError")));
      conns.push({ url, write: (t) => ctrl.enqueue(enc.encode(t)), aborted: () => signal?.aborted === true });
      return Promise.resolve(new Response(body, { headers: { "Content-Type": "text/event-stream" } }));
    }
    if (p.pathname.endsWith("/logs"))
      return Promise.resolve(new Response("data: npm ci\n\nevent: end\ndata: ready\n\n", { headers: { "Content-Type": "text/event-stream" } }));
    if (p.pathname.endsWith("/metrics")) return Promise.resolve(json(404, { error: { code: "not_found", message: "no route" } }));
    return Promise.resolve(json(404, { error: { code: "not_found", message: `no route for ${p.pathname}` } }));
  });
  return { fetch, conns };
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

const lines = (region: HTMLElement) => within(region).getByTestId("app-log-lines").querySelectorAll(":scope > div");
const texts = (region: HTMLElement) => [...lines(region)].map((d) => d.textContent);

beforeEach(() => {
  sessionStorage.clear();
  sessionStorage.setItem("launchpad-token", "tok");
  window.matchMedia = ((q: string) => ({ matches: false, media: q, addEventListener: () => undefined, removeEventListener: () => undefined })) as unknown as typeof window.matchMedia;
});
afterEach(() => vi.unstubAllGlobals());

describe("a dynamic app's page", () => {
  it('shows "App": command, port, health path and timing, resources', async () => {
    vi.stubGlobal("fetch", fakeApi(app).fetch);
    renderAt("/deployments/node-app");
    const region = await screen.findByRole("region", { name: "App" }, { timeout: 5000 });
    expect(within(region).getByRole("heading", { name: "App" })).toBeInTheDocument();
    expect(within(region).getByTestId("app-command")).toHaveTextContent("node server.js");
    expect(within(region).getByTestId("app-port")).toHaveTextContent("3000");
    expect(within(region).getByTestId("app-health")).toHaveTextContent("GET /healthz");
    expect(within(region).getByTestId("app-health")).toHaveTextContent("every 2 s · timeout 1 s · start period 10 s");
    expect(within(region).getByTestId("app-resources")).toHaveTextContent("256 MiB memory · 0.5 CPU");
    expect(screen.queryByTestId("app-trouble")).toBeNull();
  });

  it("a static site has neither App nor App logs", async () => {
    const plain = { ...app, spec: site.spec };
    const api = fakeApi(plain);
    vi.stubGlobal("fetch", api.fetch);
    renderAt("/deployments/node-app");
    await screen.findByRole("region", { name: "Build log" }, { timeout: 5000 });
    expect(screen.queryByRole("region", { name: "App" })).toBeNull();
    expect(screen.queryByRole("region", { name: "App logs" })).toBeNull();
    expect(api.conns).toHaveLength(0);
  });

  for (const [reason, message] of [
    ["CrashLoopBackOff", "the app exited 5 times in 60 s (exit code 1); next start in 40 s"],
    ["HealthCheckFailed", "revision 2: GET /healthz answered 500 for 30 s; revision 1 keeps serving"],
    ["Unhealthy", "app is unhealthy: HTTP 500"],
  ] as const) {
    it(`shows ${reason} as a badge with the status message, once on the page`, async () => {
      const broken: Deployment = {
        ...app,
        status: "failed",
        phase: "failed",
        message,
        conditions: [
          { type: "Serving", status: "False", reason },
          { type: "Ready", status: "False", reason },
        ],
      };
      vi.stubGlobal("fetch", fakeApi(broken).fetch);
      renderAt("/deployments/node-app");
      const region = await screen.findByRole("region", { name: "App" }, { timeout: 5000 });
      const badge = within(region).getByTestId("app-trouble");
      expect(badge).toHaveTextContent(reason);
      expect(badge).toHaveAttribute("data-reason", reason);
      expect(within(region).getByTestId("app-trouble-message")).toHaveTextContent(message);
      expect(screen.getAllByText(reason)).toHaveLength(1);
      expect(screen.getAllByText(message)).toHaveLength(1);
    });
  }
});

describe("App logs", () => {
  it("streams ?source=app&follow=1; Follow off closes the stream and keeps the lines; on again resumes without a repeat", async () => {
    const api = fakeApi(app);
    vi.stubGlobal("fetch", api.fetch);
    renderAt("/deployments/node-app");
    const region = await screen.findByRole("region", { name: "App logs" }, { timeout: 5000 });
    expect(within(region).getByRole("heading", { name: "App logs" })).toBeInTheDocument();
    const follow = within(region).getByRole("switch", { name: "Follow" });
    expect(follow).toBeChecked();
    await waitFor(() => expect(api.conns).toHaveLength(1));
    expect(api.conns[0]?.url).toBe("/api/deployments/node-app/logs?source=app&follow=1");
    const t = (n: number) => `2026-12-01T23:38:29.00000000${String(n)}Z`;
    const ev = (n: number, text: string) => `id: ${t(n)}\ndata: ${text}\n\n`;
    api.conns[0]?.write(": app of node-app\n\n" + ev(1, "listening on 3000") + ev(2, "GET / 200"));
    await waitFor(() => expect(texts(region)).toEqual(["listening on 3000", "GET / 200"]));

    await userEvent.click(follow);
    expect(follow).not.toBeChecked();
    await waitFor(() => expect(api.conns[0]?.aborted()).toBe(true));
    expect(within(region).getByText("Paused")).toBeInTheDocument();
    expect(texts(region)).toEqual(["listening on 3000", "GET / 200"]);

    await userEvent.click(follow);
    await waitFor(() => expect(api.conns).toHaveLength(2));
    // resumed after the last line shown: its id (its time) goes back as from=
    expect(api.conns[1]?.url).toBe(`/api/deployments/node-app/logs?source=app&follow=1&from=${encodeURIComponent(t(2))}`);
    // a line at or before that time is not shown twice, whatever the server sends
    api.conns[1]?.write(ev(2, "GET / 200") + ev(3, "GET /api 404"));
    await waitFor(() => expect(texts(region)).toEqual(["listening on 3000", "GET / 200", "GET /api 404"]));
    expect(api.fetch.mock.calls.filter((c) => (c[0] as string).includes("source=app"))).toHaveLength(2);

    // the server's hour is up (event: end, timeout): a new stream, from the last line
    api.conns[1]?.write("event: end\ndata: timeout\n\n");
    await waitFor(() => expect(api.conns).toHaveLength(3));
    expect(api.conns[2]?.url).toContain(`&from=${encodeURIComponent(t(3))}`);
    api.conns[2]?.write(ev(4, "GET / 200"));
    await waitFor(() => expect(texts(region)).toHaveLength(4));
  });

  it(`keeps the last ${String(APP_LOG_MAX_LINES)} lines and says how many older ones went`, async () => {
    const api = fakeApi(app);
    vi.stubGlobal("fetch", api.fetch);
    renderAt("/deployments/node-app");
    const region = await screen.findByRole("region", { name: "App logs" }, { timeout: 5000 });
    await waitFor(() => expect(api.conns).toHaveLength(1));
    const n = APP_LOG_MAX_LINES + 120;
    let text = "";
    for (let i = 1; i <= n; i++) text += `data: line ${String(i)}\n\n`;
    api.conns[0]?.write(text);
    await waitFor(() => expect(lines(region)).toHaveLength(APP_LOG_MAX_LINES), { timeout: 10000 });
    expect(lines(region)[0]?.textContent).toBe("line 121");
    expect(lines(region)[APP_LOG_MAX_LINES - 1]?.textContent).toBe(`line ${String(n)}`);
    expect(within(region).getByTestId("app-log-dropped")).toHaveTextContent("120 older lines dropped");
  }, 20000);
});

describe("appendBounded", () => {
  it("drops the oldest past the bound", () => {
    expect(appendBounded(["a", "b"], ["c", "d"], 3)).toEqual(["b", "c", "d"]);
    expect(appendBounded([], ["a"], 3)).toEqual(["a"]);
  });
});
