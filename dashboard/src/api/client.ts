/**
 * The typed API client. Every answer is checked against the zod schemas in ./schema, so a response
 * the dashboard does not understand fails loudly here instead of rendering nonsense. Any 401 calls
 * onUnauthorized (which sends the user back to sign-in) before the error is thrown.
 */
import type { z } from "zod/mini";

type Schema<T> = z.ZodMiniType<T>;

import {
  deploymentListSchema,
  deploymentPageSchema,
  deploymentSchema,
  errorBodySchema,
  eventListSchema,
  loginResponseSchema,
  revisionListSchema,
  siteMetricsSchema,
  webhookInfoSchema,
  type Deployment,
  type DeploymentPage,
  type MetricsWindow,
  type SiteMetrics,
  type ErrorDetail,
  type LoginResponse,
  type Revision,
  type SiteEvent,
  type WebhookInfo,
} from "./schema";
import type { ManifestInput } from "@/lib/manifest";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];

  constructor(status: number, code: string, message: string, details: ErrorDetail[] = []) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** The server did not accept the token (missing, wrong, revoked or expired). */
export class UnauthorizedError extends ApiError {
  constructor(message = "Your session has ended: sign in again.") {
    super(401, "unauthorized", message);
    this.name = "UnauthorizedError";
  }
}

/** The request never got an HTTP answer (server down, DNS, CORS refusal, aborted). */
export class NetworkError extends Error {
  constructor(message = "The LaunchPad API cannot be reached.") {
    super(message);
    this.name = "NetworkError";
  }
}

/** The answer does not have the shape the schemas describe: the server and the dashboard drifted. */
export class SchemaError extends Error {
  readonly issues: string[];

  constructor(what: string, issues: string[]) {
    super(`Unexpected answer from ${what}: ${issues.slice(0, 3).join("; ")}`);
    this.name = "SchemaError";
    this.issues = issues;
  }
}

/** POST /api/login is not on this server (older apiserver, or password sign-in disabled). */
export class LoginUnavailableError extends Error {
  constructor() {
    super("Password sign-in is not enabled on this server.");
    this.name = "LoginUnavailableError";
  }
}

export interface ClientOptions {
  baseUrl: string;
  getToken: () => string | null;
  onUnauthorized: () => void;
  fetch?: typeof fetch;
  /** Builds the XMLHttpRequest used for uploads (tests substitute one). */
  xhr?: () => XMLHttpRequest;
}

export interface GitCreateRequest {
  name: string;
  slug?: string;
  github_url: string;
  branch?: string;
  build_cmd?: string;
  output_dir?: string;
  env_vars?: Record<string, string>;
  auto_deploy?: boolean;
}

export interface UploadCreateRequest {
  name: string;
  slug?: string;
  file: Blob;
  fileName: string;
  build_cmd?: string;
  output_dir?: string;
  env_vars?: Record<string, string>;
  onProgress?: (loaded: number, total: number) => void;
  signal?: AbortSignal;
}

interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** false: a 401 is an ordinary error (sign-in checks a token it has not stored yet). */
  sessionAuth?: boolean;
  token?: string | null;
}

function issuesOf(err: z.core.$ZodError): string[] {
  return err.issues.map((i: z.core.$ZodIssue) => `${i.path.join(".") || "(root)"}: ${i.message}`);
}

export function parseWith<T>(schema: Schema<T>, data: unknown, what: string): T {
  const r = schema.safeParse(data);
  if (!r.success) throw new SchemaError(what, issuesOf(r.error));
  return r.data;
}

/** Turn a non-2xx answer into an ApiError (the API's error body when it has one). */
export function errorFrom(status: number, text: string, statusText = ""): ApiError {
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  const parsed = errorBodySchema.safeParse(body);
  if (parsed.success) {
    const e = parsed.data.error;
    if (status === 401) return new UnauthorizedError(e.message);
    return new ApiError(status, e.code, e.message, e.details ?? []);
  }
  if (status === 401) return new UnauthorizedError();
  return new ApiError(status, `http_${status}`, `HTTP ${status}${statusText ? " " + statusText : ""}`);
}

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient(opts: ClientOptions) {
  const doFetch = opts.fetch ?? ((...a: Parameters<typeof fetch>) => globalThis.fetch(...a));
  const base = opts.baseUrl;

  function authHeaders(token: string | null | undefined): Record<string, string> {
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  async function raw(path: string, o: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {
      Accept: "application/json",
      ...authHeaders(o.token !== undefined ? o.token : opts.getToken()),
      ...o.headers,
    };
    let body: BodyInit | undefined;
    if (o.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(o.body);
    }
    let res: Response;
    try {
      res = await doFetch(base + path, { method: o.method ?? "GET", headers, body, signal: o.signal });
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") throw e;
      throw new NetworkError();
    }
    if (res.status === 401 && o.sessionAuth !== false) opts.onUnauthorized();
    return res;
  }

  async function request<T>(schema: Schema<T>, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await raw(path, o);
    const text = await res.text();
    if (!res.ok) throw errorFrom(res.status, text, res.statusText);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new SchemaError(`${o.method ?? "GET"} ${path}`, ["the body is not JSON"]);
    }
    return parseWith(schema, data, `${o.method ?? "GET"} ${path}`);
  }

  const enc = encodeURIComponent;

  return {
    baseUrl: base,

    listDeployments: (signal?: AbortSignal): Promise<Deployment[]> =>
      request(deploymentListSchema, "/api/deployments", { signal }),

    /**
     * One page of the list (docs/api.md, kubectl-style): `cont` is the previous page's
     * metadata.continue (null: the first page).
     */
    listPage: (limit: number, cont: string | null, signal?: AbortSignal): Promise<DeploymentPage> =>
      request(
        deploymentPageSchema,
        `/api/deployments?limit=${String(limit)}${cont ? `&continue=${enc(cont)}` : ""}`,
        { signal },
      ),

    /** Checks a token before it is stored: a 401 here is "not accepted", not "session ended". */
    checkToken: async (token: string): Promise<void> => {
      // a page of one: the whole list would be read only to learn the token works
      const res = await raw("/api/deployments?limit=1", { token, sessionAuth: false });
      await res.body?.cancel();
      if (res.status === 401) throw new UnauthorizedError("That token was not accepted.");
      if (!res.ok) throw errorFrom(res.status, "", res.statusText);
    },

    login: async (username: string, password: string): Promise<LoginResponse> => {
      const res = await raw("/api/login", {
        method: "POST",
        body: { username, password },
        token: null,
        sessionAuth: false,
      });
      const text = await res.text();
      if (res.status === 404 || res.status === 405) throw new LoginUnavailableError();
      if (res.status === 401) throw new UnauthorizedError("Wrong username or password.");
      if (!res.ok) throw errorFrom(res.status, text, res.statusText);
      return parseWith(loginResponseSchema, JSON.parse(text), "POST /api/login");
    },

    getDeployment: (id: string, signal?: AbortSignal): Promise<Deployment> =>
      request(deploymentSchema, `/api/deployments/${enc(id)}`, { signal }),

    createGit: (req: GitCreateRequest): Promise<Deployment> =>
      request(deploymentSchema, "/api/deployments", {
        method: "POST",
        body: { source_type: "github", ...req },
      }),

    createUpload: (req: UploadCreateRequest): Promise<Deployment> =>
      new Promise<Deployment>((resolve, reject) => {
        const form = new FormData();
        form.append("name", req.name);
        if (req.slug) form.append("slug", req.slug);
        form.append("source_type", "zip");
        if (req.build_cmd) form.append("build_cmd", req.build_cmd);
        if (req.output_dir) form.append("output_dir", req.output_dir);
        if (req.env_vars && Object.keys(req.env_vars).length) form.append("env_vars", JSON.stringify(req.env_vars));
        form.append("file", req.file, req.fileName);

        const xhr = opts.xhr ? opts.xhr() : new XMLHttpRequest();
        xhr.open("POST", base + "/api/deployments");
        const token = opts.getToken();
        if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
        xhr.setRequestHeader("Accept", "application/json");
        xhr.upload.onprogress = (ev: ProgressEvent) => {
          if (req.onProgress) req.onProgress(ev.loaded, ev.lengthComputable ? ev.total : req.file.size);
        };
        xhr.onload = () => {
          if (xhr.status === 401) opts.onUnauthorized();
          if (xhr.status < 200 || xhr.status >= 300) {
            reject(errorFrom(xhr.status, xhr.responseText, xhr.statusText));
            return;
          }
          try {
            resolve(parseWith(deploymentSchema, JSON.parse(xhr.responseText), "POST /api/deployments"));
          } catch (e) {
            reject(e instanceof SchemaError ? e : new SchemaError("POST /api/deployments", ["the body is not JSON"]));
          }
        };
        xhr.onerror = () => reject(new NetworkError("The upload failed: the API cannot be reached."));
        xhr.onabort = () => reject(new DOMException("The upload was cancelled.", "AbortError"));
        if (req.signal) {
          if (req.signal.aborted) {
            reject(new DOMException("The upload was cancelled.", "AbortError"));
            return;
          }
          req.signal.addEventListener("abort", () => xhr.abort(), { once: true });
        }
        xhr.send(form);
      }),

    /** Declarative apply of the whole manifest; resourceVersion guards against lost updates. */
    apply: (slug: string, manifest: ManifestInput, resourceVersion?: number): Promise<Deployment> =>
      request(deploymentSchema, `/api/deployments/${enc(slug)}`, {
        method: "PUT",
        body: manifest,
        headers: resourceVersion ? { "If-Match": `"${resourceVersion}"` } : {},
      }),

    redeploy: (id: string): Promise<Deployment> =>
      request(deploymentSchema, `/api/deployments/${enc(id)}/redeploy`, { method: "POST" }),

    rollback: (id: string, revision: number): Promise<Deployment> =>
      request(deploymentSchema, `/api/deployments/${enc(id)}/rollback`, { method: "POST", body: { revision } }),

    /** 202 when a running build was cancelled. A 404/405 means the server has no cancel route. */
    cancel: async (id: string): Promise<void> => {
      const res = await raw(`/api/deployments/${enc(id)}/cancel`, { method: "POST" });
      const text = await res.text();
      if (!res.ok) throw errorFrom(res.status, text, res.statusText);
    },

    remove: (id: string): Promise<Deployment> =>
      request(deploymentSchema, `/api/deployments/${enc(id)}`, { method: "DELETE" }),

    revisions: (id: string, signal?: AbortSignal): Promise<Revision[]> =>
      request(revisionListSchema, `/api/deployments/${enc(id)}/revisions`, { signal }),

    /** The site's previews (pull requests, branch deploys; docs/previews.md), oldest first. */
    previews: (id: string, signal?: AbortSignal): Promise<Deployment[]> =>
      request(deploymentListSchema, `/api/deployments/${enc(id)}/previews`, { signal }),

    events: (id: string, signal?: AbortSignal): Promise<SiteEvent[]> =>
      request(eventListSchema, `/api/deployments/${enc(id)}/events`, { signal }),

    metrics: (id: string, window: MetricsWindow, signal?: AbortSignal): Promise<SiteMetrics> =>
      request(siteMetricsSchema, `/api/deployments/${enc(id)}/metrics?window=${window}`, { signal }),

    /** Ends the session on the server too (a session token from POST /api/login); best effort. */
    logout: async (): Promise<void> => {
      try {
        const res = await raw("/api/logout", { method: "POST", sessionAuth: false });
        await res.body?.cancel();
      } catch {
        /* the token is dropped in the browser anyway */
      }
    },

    /** The webhook URL and secret; null when the server has no such route (use the site's fields). */
    webhook: async (id: string, signal?: AbortSignal): Promise<WebhookInfo | null> => {
      try {
        return await request(webhookInfoSchema, `/api/deployments/${enc(id)}/webhook`, { signal });
      } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 405)) return null;
        throw e;
      }
    },

    /**
     * Whether the server has a route (OPTIONS answers 204 on every known path, 404 otherwise): lets
     * the dashboard hide what an older server cannot do (cancel) without trying it.
     */
    hasRoute: async (path: string): Promise<boolean> => {
      try {
        const res = await raw(path, { method: "OPTIONS", sessionAuth: false });
        await res.body?.cancel();
        return res.ok;
      } catch {
        return false;
      }
    },

    /**
     * The raw SSE response of a revision's build log (EventSource cannot send Authorization);
     * `from`: the id of the last event already shown, so the server resumes after it.
     */
    openLog: async (id: string, revision: number, signal: AbortSignal, from = 0): Promise<Response> => {
      const resume = from > 0 ? `&from=${from}` : "";
      const res = await raw(`/api/deployments/${enc(id)}/logs?revision=${revision}${resume}`, {
        signal,
        headers: { Accept: "text/event-stream" },
      });
      if (!res.ok) throw errorFrom(res.status, await res.text(), res.statusText);
      return res;
    },

    /**
     * The raw SSE response of a dynamic app's stdout/stderr (`source=app`, `follow=1`: the stream
     * stays open for new lines; first the last 200 lines, the server's default tail).
     */
    openAppLog: async (id: string, signal: AbortSignal, from = ""): Promise<Response> => {
      // from: the last event's id, its line's time; the server sends the lines after it
      const resume = from ? `&from=${enc(from)}` : "";
      const res = await raw(`/api/deployments/${enc(id)}/logs?source=app&follow=1${resume}`, {
        signal,
        headers: { Accept: "text/event-stream" },
      });
      if (!res.ok) throw errorFrom(res.status, await res.text(), res.statusText);
      return res;
    },
  };
}
