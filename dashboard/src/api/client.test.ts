import { describe, expect, it, vi } from "vitest";

import {
  ApiError,
  createApiClient,
  errorFrom,
  LoginUnavailableError,
  NetworkError,
  SchemaError,
  UnauthorizedError,
} from "./client";
import { site } from "@/test/fixtures";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

function setup(responses: Response[] | ((url: string, init: RequestInit) => Response), token: string | null = "tok") {
  const calls: { url: string; init: RequestInit }[] = [];
  const onUnauthorized = vi.fn();
  const fetchMock = vi.fn((url: string, init: RequestInit) => {
    calls.push({ url, init });
    const r = typeof responses === "function" ? responses(url, init) : responses.shift();
    if (!r) throw new Error("no more responses");
    return Promise.resolve(r);
  });
  const api = createApiClient({
    baseUrl: "https://api.example",
    getToken: () => token,
    onUnauthorized,
    fetch: fetchMock as unknown as typeof fetch,
  });
  return { api, calls, onUnauthorized };
}

function headersOf(init: RequestInit): Record<string, string> {
  return init.headers as Record<string, string>;
}

describe("request shapes", () => {
  it("lists with the bearer token at the configured base URL", async () => {
    const { api, calls } = setup([json(200, [site])]);
    const list = await api.listDeployments();
    expect(list).toHaveLength(1);
    expect(calls[0]?.url).toBe("https://api.example/api/deployments");
    expect(headersOf(calls[0]!.init).Authorization).toBe("Bearer tok");
    expect(calls[0]?.init.method).toBe("GET");
  });

  it("creates a Git site with the seed's JSON body", async () => {
    const { api, calls } = setup([json(201, site)]);
    await api.createGit({ name: "clever-peak", slug: "clever-peak", github_url: "https://github.com/user/repo", branch: "main", auto_deploy: true, env_vars: { A: "1" } });
    const c = calls[0]!;
    expect(c.init.method).toBe("POST");
    expect(headersOf(c.init)["Content-Type"]).toBe("application/json");
    expect(JSON.parse(c.init.body as string)).toEqual({
      source_type: "github",
      name: "clever-peak",
      slug: "clever-peak",
      github_url: "https://github.com/user/repo",
      branch: "main",
      auto_deploy: true,
      env_vars: { A: "1" },
    });
  });

  it("applies a manifest with PUT and If-Match", async () => {
    const { api, calls } = setup([json(200, { ...site, result: "configured", revision: 2 })]);
    const d = await api.apply("clever-peak", { apiVersion: "launchpad.dev/v1", kind: "Site", metadata: { name: "clever-peak" }, spec: { source: { git: { url: "https://x.example/r" } }, autoDeploy: false, serve: { spa: false }, revisionHistoryLimit: 5 } }, 7);
    expect(d.result).toBe("configured");
    expect(calls[0]?.url).toBe("https://api.example/api/deployments/clever-peak");
    expect(calls[0]?.init.method).toBe("PUT");
    expect(headersOf(calls[0]!.init)["If-Match"]).toBe('"7"');
  });

  it("rolls back with {revision: N}, redeploys and deletes by slug", async () => {
    const { api, calls } = setup([json(202, site), json(202, site), json(202, site)]);
    await api.rollback("clever-peak", 1);
    await api.redeploy("clever-peak");
    await api.remove("clever-peak");
    expect(calls.map((c) => `${c.init.method ?? ""} ${c.url}`)).toEqual([
      "POST https://api.example/api/deployments/clever-peak/rollback",
      "POST https://api.example/api/deployments/clever-peak/redeploy",
      "DELETE https://api.example/api/deployments/clever-peak",
    ]);
    expect(JSON.parse(calls[0]!.init.body as string)).toEqual({ revision: 1 });
    expect(calls[1]!.init.body).toBeUndefined();
  });

  it("escapes ids in paths and asks the log for one revision", async () => {
    const { api, calls } = setup([new Response("data: x\n\n", { status: 200, headers: { "Content-Type": "text/event-stream" } })]);
    await api.openLog("a/b", 3, new AbortController().signal);
    expect(calls[0]?.url).toBe("https://api.example/api/deployments/a%2Fb/logs?revision=3");
    expect(headersOf(calls[0]!.init).Accept).toBe("text/event-stream");
  });

  it("sends no Authorization header without a token", async () => {
    const { api, calls } = setup([json(200, [])], null);
    await api.listDeployments();
    expect(headersOf(calls[0]!.init).Authorization).toBeUndefined();
  });
});

describe("errors", () => {
  it("turns the API's error body into an ApiError with its details", async () => {
    const body = {
      error: {
        code: "invalid",
        message: "invalid manifest: 1 error",
        details: [{ path: "spec.revisionHistoryLimit", line: 0, column: 0, message: "must be between 1 and 100 (got 0)" }],
      },
    };
    const { api } = setup([json(400, body)]);
    const e = await api.getDeployment("x").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    const a = e as ApiError;
    expect(a.status).toBe(400);
    expect(a.code).toBe("invalid");
    expect(a.details[0]?.path).toBe("spec.revisionHistoryLimit");
  });

  it("keeps a non-JSON error readable", () => {
    const e = errorFrom(502, "<html>bad gateway</html>", "Bad Gateway");
    expect(e.code).toBe("http_502");
    expect(e.message).toBe("HTTP 502 Bad Gateway");
  });

  it("reports a network failure as NetworkError", async () => {
    const api = createApiClient({
      baseUrl: "",
      getToken: () => "t",
      onUnauthorized: () => undefined,
      fetch: () => Promise.reject(new TypeError("Failed to fetch")),
    });
    await expect(api.listDeployments()).rejects.toBeInstanceOf(NetworkError);
  });

  it("fails loudly when the answer drifts from the schema", async () => {
    const { api } = setup([json(200, [{ ...site, status: "running" }])]);
    const e = await api.listDeployments().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SchemaError);
    expect((e as SchemaError).issues.join()).toContain("0.status");
  });

  it("accepts fields the server adds later", async () => {
    const { api } = setup([json(200, { ...site, brand_new_field: 1 })]);
    await expect(api.getDeployment("x")).resolves.toMatchObject({ slug: "clever-peak" });
  });
});

describe("401 handling", () => {
  it("calls onUnauthorized and throws UnauthorizedError on any 401", async () => {
    const { api, onUnauthorized } = setup([json(401, { error: { code: "unauthorized", message: "invalid token" } })]);
    await expect(api.revisions("x")).rejects.toBeInstanceOf(UnauthorizedError);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it("does the same for a write", async () => {
    const { api, onUnauthorized } = setup([new Response("", { status: 401 })]);
    await expect(api.redeploy("x")).rejects.toBeInstanceOf(UnauthorizedError);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it("does not end the session when a token is only being checked", async () => {
    const { api, onUnauthorized, calls } = setup([new Response("", { status: 401 })]);
    await expect(api.checkToken("candidate")).rejects.toThrow("not accepted");
    expect(onUnauthorized).not.toHaveBeenCalled();
    expect(headersOf(calls[0]!.init).Authorization).toBe("Bearer candidate");
  });
});

describe("login", () => {
  it("posts username and password and returns the token", async () => {
    const { api, calls } = setup([json(200, { token: "lp_x", expires_at: "2026-12-01T00:00:00Z" })], null);
    const r = await api.login("ada", "pw");
    expect(r.token).toBe("lp_x");
    expect(JSON.parse(calls[0]!.init.body as string)).toEqual({ username: "ada", password: "pw" });
    expect(headersOf(calls[0]!.init).Authorization).toBeUndefined();
  });

  it("says password sign-in is not enabled on a 404", async () => {
    const { api } = setup([json(404, { error: { code: "not_found", message: "no route for POST /api/login" } })], null);
    await expect(api.login("a", "b")).rejects.toBeInstanceOf(LoginUnavailableError);
    await expect(Promise.reject(new LoginUnavailableError())).rejects.toThrow(/password sign-in is not enabled on this server/i);
  });

  it("reports wrong credentials without ending a session", async () => {
    const { api, onUnauthorized } = setup([json(401, { error: { code: "unauthorized", message: "bad" } })], null);
    await expect(api.login("a", "b")).rejects.toThrow("Wrong username or password.");
    expect(onUnauthorized).not.toHaveBeenCalled();
  });
});

describe("routes being added to the server", () => {
  it("falls back (null) when GET /webhook does not exist", async () => {
    const { api } = setup([json(404, { error: { code: "not_found", message: "no route" } })]);
    await expect(api.webhook("x")).resolves.toBeNull();
  });

  it("returns the webhook info when it does", async () => {
    const { api } = setup([json(200, { webhook_url: "https://t/x", webhook_secret: "s" })]);
    await expect(api.webhook("x")).resolves.toEqual({ webhook_url: "https://t/x", webhook_secret: "s" });
  });

  it("cancel: 202 resolves, 404/405 reject with the status (the page hides the button)", async () => {
    const { api } = setup([new Response(null, { status: 202 }), json(405, { error: { code: "method_not_allowed", message: "no" } })]);
    await expect(api.cancel("x")).resolves.toBeUndefined();
    await expect(api.cancel("x")).rejects.toMatchObject({ status: 405 });
  });

  it("probes a route with OPTIONS", async () => {
    const { api, calls } = setup([new Response(null, { status: 204 }), new Response("{}", { status: 404 })]);
    await expect(api.hasRoute("/api/deployments/x/cancel")).resolves.toBe(true);
    await expect(api.hasRoute("/api/deployments/x/cancel")).resolves.toBe(false);
    expect(calls[0]?.init.method).toBe("OPTIONS");
  });
});

/** A stand-in for XMLHttpRequest: records what was sent, answers when told. */
class FakeXhr {
  static last: FakeXhr | null = null;
  method = "";
  url = "";
  headers: Record<string, string> = {};
  body: FormData | null = null;
  status = 0;
  statusText = "";
  responseText = "";
  upload: { onprogress: ((ev: ProgressEvent) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  constructor() {
    FakeXhr.last = this;
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  send(body: FormData) {
    this.body = body;
  }
  abort() {
    this.onabort?.();
  }
  answer(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }
}

describe("upload (multipart over XMLHttpRequest)", () => {
  function uploadClient() {
    const onUnauthorized = vi.fn();
    const api = createApiClient({
      baseUrl: "",
      getToken: () => "tok",
      onUnauthorized,
      xhr: () => new FakeXhr() as unknown as XMLHttpRequest,
    });
    return { api, onUnauthorized };
  }

  it("sends the seed's fields and the file, reports progress, parses the answer", async () => {
    const { api } = uploadClient();
    const progress: number[] = [];
    const file = new Blob(["PK\x03\x04"], { type: "application/zip" });
    const p = api.createUpload({
      name: "my-site",
      slug: "my-site",
      file,
      fileName: "my-site.zip",
      build_cmd: "npm run build",
      output_dir: "dist",
      env_vars: { A: "1" },
      onProgress: (l) => progress.push(l),
    });
    const x = FakeXhr.last!;
    expect(x.method).toBe("POST");
    expect(x.url).toBe("/api/deployments");
    expect(x.headers.Authorization).toBe("Bearer tok");
    const f = x.body!;
    expect(f.get("name")).toBe("my-site");
    expect(f.get("slug")).toBe("my-site");
    expect(f.get("source_type")).toBe("zip");
    expect(f.get("build_cmd")).toBe("npm run build");
    expect(f.get("output_dir")).toBe("dist");
    expect(f.get("env_vars")).toBe('{"A":"1"}');
    expect((f.get("file") as File).name).toBe("my-site.zip");
    x.upload.onprogress?.({ loaded: 2, total: 4, lengthComputable: true } as ProgressEvent);
    x.upload.onprogress?.({ loaded: 4, total: 4, lengthComputable: true } as ProgressEvent);
    x.answer(201, { ...site, source_type: "zip" });
    await expect(p).resolves.toMatchObject({ source_type: "zip" });
    expect(progress).toEqual([2, 4]);
  });

  it("leaves optional fields out", async () => {
    const { api } = uploadClient();
    const p = api.createUpload({ name: "a", file: new Blob(["x"]), fileName: "a.zip" });
    const f = FakeXhr.last!.body!;
    expect([...f.keys()].sort()).toEqual(["file", "name", "source_type"]);
    FakeXhr.last!.answer(201, site);
    await p;
  });

  it("maps errors and a 401 like fetch does", async () => {
    const { api, onUnauthorized } = uploadClient();
    const p1 = api.createUpload({ name: "a", file: new Blob(["x"]), fileName: "a.zip" });
    FakeXhr.last!.answer(415, { error: { code: "unsupported", message: "not a zip" } });
    await expect(p1).rejects.toMatchObject({ status: 415, code: "unsupported" });
    const p2 = api.createUpload({ name: "a", file: new Blob(["x"]), fileName: "a.zip" });
    FakeXhr.last!.answer(401, { error: { code: "unauthorized", message: "revoked" } });
    await expect(p2).rejects.toBeInstanceOf(UnauthorizedError);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });
});
