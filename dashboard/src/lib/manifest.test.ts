import { describe, expect, it } from "vitest";

import { site } from "@/test/fixtures";
import { formFromManifest, formKey, manifestFromForm, validateConfig } from "./manifest";

describe("configuration form ↔ Site manifest", () => {
  it("round-trips a Git site with a build", () => {
    const f = formFromManifest(site.spec!);
    expect(f).toMatchObject({ kind: "git", repoUrl: "https://github.com/user/repo", branch: "main", buildCmd: "npm ci && npm run build", outputDir: "dist", historyLimit: "5" });
    expect(manifestFromForm("clever-peak", f)).toEqual({
      apiVersion: "launchpad.dev/v1",
      kind: "Site",
      metadata: { name: "clever-peak" },
      spec: {
        source: { git: { url: "https://github.com/user/repo", branch: "main" } },
        build: { command: "npm ci && npm run build", outputDir: "dist", env: { NODE_ENV: "production" }, timeoutSeconds: 900 },
        autoDeploy: true,
        serve: { spa: false },
        revisionHistoryLimit: 5,
      },
    });
  });

  it("keeps the custom domains and the HTTPS switches it does not edit", () => {
    const m = { ...site.spec!, spec: { ...site.spec!.spec, domains: ["www.example.com"], serve: { spa: false, httpsRedirect: true, hsts: true } } };
    const out = manifestFromForm("x", formFromManifest(m)).spec;
    expect(out.domains).toEqual(["www.example.com"]);
    expect(out.serve).toEqual({ spa: false, httpsRedirect: true, hsts: true });
    expect(manifestFromForm("x", formFromManifest(site.spec!)).spec.domains).toBeUndefined();
  });

  it("keeps a dynamic app's spec.run as it is (a save must not turn the app static)", () => {
    const run = { command: "node server.js", port: 3000, healthCheck: { path: "/healthz", intervalSeconds: 2, timeoutSeconds: 1 }, resources: { memoryMiB: 256, cpus: 0.5 } };
    const m = { ...site.spec!, spec: { ...site.spec!.spec, run } };
    expect(manifestFromForm("x", formFromManifest(m)).spec.run).toEqual(run);
    expect(manifestFromForm("x", formFromManifest(site.spec!)).spec.run).toBeUndefined();
  });

  it("has no build without a command or an output folder", () => {
    const f = { ...formFromManifest(site.spec!), buildCmd: "", outputDir: "" };
    expect(manifestFromForm("x", f).spec.build).toBeUndefined();
    expect(manifestFromForm("x", { ...f, outputDir: "public" }).spec.build).toEqual({ outputDir: "public", env: { NODE_ENV: "production" }, timeoutSeconds: 900 });
  });

  it("keeps an archive source", () => {
    const m = { ...site.spec!, spec: { ...site.spec!.spec, source: { archive: { digest: "sha256:" + "a".repeat(64) } }, build: undefined } };
    const f = formFromManifest(m);
    expect(f.kind).toBe("archive");
    expect(manifestFromForm("x", f).spec.source).toEqual({ archive: { digest: "sha256:" + "a".repeat(64) } });
  });

  it("sends numbers as numbers and anything else as typed (the server names the field)", () => {
    const f = { ...formFromManifest(site.spec!), historyLimit: "0", timeout: "abc" };
    const m = manifestFromForm("x", f);
    expect(m.spec.revisionHistoryLimit).toBe(0);
    expect(m.spec.build?.timeoutSeconds).toBe("abc");
  });

  it("sees a change, and no change when only env order differs", () => {
    const a = formFromManifest(site.spec!);
    expect(formKey({ ...a })).toBe(formKey(a));
    expect(formKey({ ...a, spa: true })).not.toBe(formKey(a));
    const two = { ...a, envRows: [{ id: 1, key: "A", value: "1" }, { id: 2, key: "B", value: "2" }] };
    expect(formKey({ ...two, envRows: [...two.envRows].reverse() })).toBe(formKey(two));
  });

  it("checks formats locally and leaves ranges to the server", () => {
    const f = formFromManifest(site.spec!);
    expect(validateConfig({ ...f, outputDir: "../x" }).outputDir).toContain("..");
    expect(validateConfig({ ...f, historyLimit: "ten" }).historyLimit).toBeDefined();
    expect(validateConfig({ ...f, historyLimit: "0" })).toEqual({});
  });
});
