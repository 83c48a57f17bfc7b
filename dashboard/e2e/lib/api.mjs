/** Direct API calls from the tests, every answer validated against the dashboard's schemas. */
import { count, validateResponse } from "./schemas.mjs";

export function apiClient(platform) {
  async function call(method, path, { json, form, headers = {}, token = platform.token, expect } = {}) {
    const h = { Authorization: `Bearer ${token}`, ...headers };
    let body;
    if (json !== undefined) {
      h["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form) {
      body = form;
    }
    const res = await fetch(platform.url + path, { method, headers: h, body, signal: AbortSignal.timeout(20000) });
    const text = await res.text();
    let data = null;
    if (text && (res.headers.get("content-type") ?? "").includes("json")) data = JSON.parse(text);
    count(await validateResponse(method, path, res.status, data));
    if (expect !== undefined && res.status !== expect) {
      throw new Error(`${method} ${path}: expected ${expect}, got ${res.status}: ${text.slice(0, 400)}`);
    }
    return { status: res.status, data, headers: res.headers };
  }
  return {
    call,
    list: async () => (await call("GET", "/api/deployments", { expect: 200 })).data,
    get: async (id) => (await call("GET", `/api/deployments/${id}`, { expect: 200 })).data,
    revisions: async (id) => (await call("GET", `/api/deployments/${id}/revisions`, { expect: 200 })).data,
    createZip: async (name, zipBytes, fields = {}) => {
      const form = new FormData();
      form.append("name", name);
      form.append("slug", name);
      form.append("source_type", "zip");
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      form.append("file", new Blob([zipBytes], { type: "application/zip" }), `${name}.zip`);
      return (await call("POST", "/api/deployments", { form, expect: 201 })).data;
    },
    apply: async (name, manifest, expect = undefined) => call("PUT", `/api/deployments/${name}`, { json: manifest, expect }),
    remove: async (id) => call("DELETE", `/api/deployments/${id}`),
  };
}
