import { useMemo, useState, type SubmitEvent } from "react";
import { LoaderCircle } from "lucide-react";
import { toast } from "sonner";

import { ApiError } from "@/api/client";
import { useApply } from "@/api/hooks";
import type { Deployment } from "@/api/schema";
import { EnvVarsEditor } from "@/components/EnvVarsEditor";
import { FormError, FormField } from "@/components/FormField";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Switch } from "@/components/ui/switch";
import { Textarea } from "@/components/ui/textarea";
import { mapApiError, matchConfigPath, type ConfigField, type FieldErrors } from "@/lib/formErrors";
import { formFromManifest, formKey, manifestFromForm, validateConfig, type ConfigForm } from "@/lib/manifest";

const IDS: Record<ConfigField, string> = {
  repoUrl: "cfg-repo-url",
  branch: "cfg-branch",
  buildCmd: "cfg-build-cmd",
  outputDir: "cfg-output-dir",
  image: "cfg-image",
  timeout: "cfg-timeout",
  env: "cfg-env",
  autoDeploy: "cfg-auto-deploy",
  spa: "cfg-spa",
  notFoundPage: "cfg-not-found",
  historyLimit: "cfg-history-limit",
};

/** The site's desired state, edited as a form and saved with apply (PUT + If-Match). */
export function ConfigEditor({ site, reload }: { site: Deployment; reload: () => Promise<Deployment | undefined> }) {
  const apply = useApply(site.slug);
  const initial = useMemo(() => (site.spec ? formFromManifest(site.spec) : null), [site.spec]);
  const [form, setForm] = useState<ConfigForm | null>(initial);
  const [synced, setSynced] = useState<ConfigForm | null>(initial);
  const [baseVersion, setBaseVersion] = useState(site.resource_version);
  const [errors, setErrors] = useState<FieldErrors<ConfigField>>({});
  const [conflict, setConflict] = useState(false);
  const dirty = form !== null && synced !== null && formKey(form) !== formKey(synced);

  // a newer spec from the server replaces the form, unless the user is editing it
  if (initial !== synced) {
    setSynced(initial);
    if (!dirty) {
      setForm(initial);
      setBaseVersion(site.resource_version);
    }
  }

  if (!form || !site.spec) return null;

  const set = <K extends keyof ConfigForm>(k: K, v: ConfigForm[K], field?: ConfigField) => {
    setForm((f) => (f ? { ...f, [k]: v } : f));
    if (field) setErrors((e) => ({ ...e, [field]: undefined, form: undefined }));
  };

  const reset = () => {
    setSynced(initial);
    setForm(initial);
    setBaseVersion(site.resource_version);
    setErrors({});
    setConflict(false);
  };

  /** After a 409: fetch the site now and start over from what the server has. */
  const loadLatest = async () => {
    const fresh = await reload();
    if (!fresh?.spec) return;
    const f = formFromManifest(fresh.spec);
    setSynced(f);
    setForm(f);
    setBaseVersion(fresh.resource_version);
    setErrors({});
    setConflict(false);
  };

  const focusFirst = (e: FieldErrors<ConfigField>) => {
    const k = (Object.keys(IDS) as ConfigField[]).find((f) => e[f]);
    const el = k === "env" ? document.querySelector<HTMLElement>("#cfg-env-fields input") : k ? document.getElementById(IDS[k]) : null;
    el?.focus();
  };

  const onSubmit = (ev: SubmitEvent) => {
    ev.preventDefault();
    const local = validateConfig(form);
    if (Object.values(local).some(Boolean)) {
      setErrors(local);
      setTimeout(() => focusFirst(local));
      return;
    }
    setErrors({});
    setConflict(false);
    apply.mutate(
      { slug: site.slug, manifest: manifestFromForm(site.slug, form), resourceVersion: baseVersion },
      {
        onSuccess: (d) => {
          setBaseVersion(d.resource_version);
          if (d.result === "unchanged") toast.info("Nothing changed.");
          else toast.success(`Configuration saved${d.revision ? `: revision ${d.revision} is deploying` : ""}`);
          if (d.spec) {
            const saved = formFromManifest(d.spec);
            setForm(saved);
            setSynced(saved);
          }
        },
        onError: (err) => {
          if (err instanceof ApiError && err.status === 409) {
            setConflict(true);
            setErrors({ form: `${err.message}. Someone else changed this site: load the latest configuration, then redo your edit.` });
            return;
          }
          const mapped = mapApiError(err, matchConfigPath);
          setErrors(mapped);
          setTimeout(() => focusFirst(mapped));
        },
      },
    );
  };

  const busy = apply.isPending;
  const disabled = busy || site.phase === "deleting";
  const hasBuild = form.buildCmd.trim() !== "";

  return (
    <Card className="gap-4">
      <form onSubmit={onSubmit} noValidate className="grid gap-6" aria-labelledby="config-title">
        <CardHeader>
          <CardTitle>
            <h2 id="config-title">Configuration</h2>
          </CardTitle>
          <CardDescription>
            Saving applies the whole Site manifest (version {baseVersion}); a change deploys a new revision.
          </CardDescription>
        </CardHeader>
        <CardContent className="grid gap-6">
          {form.kind === "git" ? (
            <div className="grid gap-4 md:grid-cols-2">
              <FormField id={IDS.repoUrl} label="Repository URL" error={errors.repoUrl}>
                {(p) => (
                  <Input
                    {...p}
                    value={form.repoUrl}
                    disabled={disabled}
                    spellCheck={false}
                    onChange={(e) => set("repoUrl", e.target.value, "repoUrl")}
                  />
                )}
              </FormField>
              <FormField id={IDS.branch} label="Branch" error={errors.branch}>
                {(p) => (
                  <Input
                    {...p}
                    value={form.branch}
                    disabled={disabled}
                    spellCheck={false}
                    placeholder="main"
                    onChange={(e) => set("branch", e.target.value, "branch")}
                  />
                )}
              </FormField>
              <div className="flex items-center gap-3 md:col-span-2">
                <Switch
                  id={IDS.autoDeploy}
                  checked={form.autoDeploy}
                  disabled={disabled}
                  onCheckedChange={(v) => set("autoDeploy", v, "autoDeploy")}
                />
                <Label htmlFor={IDS.autoDeploy}>Auto-deploy on push</Label>
                {errors.autoDeploy && <p className="text-destructive text-sm">{errors.autoDeploy}</p>}
              </div>
            </div>
          ) : (
            <div className="grid gap-1 text-sm">
              <span className="font-medium">Source</span>
              <span className="text-muted-foreground font-mono text-xs break-all">uploaded archive {form.digest}</span>
            </div>
          )}

          <div className="grid gap-4 md:grid-cols-2">
            <FormField
              id={IDS.buildCmd}
              label="Build command"
              error={errors.buildCmd}
              hint="Empty: no build, the files are served as they are."
              className="md:col-span-2"
            >
              {(p) => (
                <Textarea
                  {...p}
                  value={form.buildCmd}
                  disabled={disabled}
                  spellCheck={false}
                  rows={2}
                  className="min-h-9 font-mono"
                  placeholder="e.g. npm ci && npm run build"
                  onChange={(e) => set("buildCmd", e.target.value, "buildCmd")}
                />
              )}
            </FormField>
            <FormField
              id={IDS.outputDir}
              label="Output directory"
              error={errors.outputDir}
              hint={hasBuild ? "Empty: dist." : "A folder of the source to serve; empty: its root."}
            >
              {(p) => (
                <Input
                  {...p}
                  value={form.outputDir}
                  disabled={disabled}
                  spellCheck={false}
                  className="font-mono"
                  placeholder={hasBuild ? "dist" : "."}
                  onChange={(e) => set("outputDir", e.target.value, "outputDir")}
                />
              )}
            </FormField>
            <FormField id={IDS.image} label="Build image" error={errors.image} hint="Empty: the platform's default image.">
              {(p) => (
                <Input
                  {...p}
                  value={form.image}
                  disabled={disabled || !hasBuild}
                  spellCheck={false}
                  className="font-mono"
                  placeholder="node:20-alpine"
                  onChange={(e) => set("image", e.target.value, "image")}
                />
              )}
            </FormField>
            <FormField id={IDS.timeout} label="Build timeout (seconds)" error={errors.timeout} hint="1 – 7200.">
              {(p) => (
                <Input
                  {...p}
                  inputMode="numeric"
                  value={form.timeout}
                  disabled={disabled || !hasBuild}
                  onChange={(e) => set("timeout", e.target.value, "timeout")}
                />
              )}
            </FormField>
            <FormField id={IDS.historyLimit} label="Revisions kept" error={errors.historyLimit} hint="1 – 100.">
              {(p) => (
                <Input
                  {...p}
                  inputMode="numeric"
                  value={form.historyLimit}
                  disabled={disabled}
                  onChange={(e) => set("historyLimit", e.target.value, "historyLimit")}
                />
              )}
            </FormField>
          </div>

          <div id="cfg-env-fields">
            <EnvVarsEditor
              idPrefix="cfg"
              rows={form.envRows}
              disabled={disabled || !hasBuild}
              error={errors.env}
              onChange={(r) => set("envRows", r, "env")}
            />
            {!hasBuild && (
              <p className="text-muted-foreground mt-2 text-xs">Environment variables are given to the build command: set one first.</p>
            )}
          </div>

          <div className="grid gap-4 md:grid-cols-2">
            <div className="flex items-start gap-3">
              <Switch id={IDS.spa} checked={form.spa} disabled={disabled} onCheckedChange={(v) => set("spa", v, "spa")} />
              <div className="grid gap-1">
                <Label htmlFor={IDS.spa}>Single-page app</Label>
                <p className="text-muted-foreground text-xs">Paths that match no file get /index.html.</p>
                {errors.spa && <p className="text-destructive text-sm">{errors.spa}</p>}
              </div>
            </div>
            <FormField id={IDS.notFoundPage} label="Not-found page" error={errors.notFoundPage} hint="A file of the output, e.g. 404.html.">
              {(p) => (
                <Input
                  {...p}
                  value={form.notFoundPage}
                  disabled={disabled}
                  spellCheck={false}
                  className="font-mono"
                  placeholder="404.html"
                  onChange={(e) => set("notFoundPage", e.target.value, "notFoundPage")}
                />
              )}
            </FormField>
          </div>

          <FormError message={errors.form} />
        </CardContent>
        <CardFooter className="flex-wrap justify-end gap-2">
          {dirty && <span className="text-muted-foreground mr-auto text-sm">Unsaved changes</span>}
          {conflict ? (
            <Button type="button" variant="outline" onClick={() => void loadLatest()}>
              Load the latest
            </Button>
          ) : (
            <Button type="button" variant="ghost" disabled={!dirty || busy} onClick={reset}>
              Discard changes
            </Button>
          )}
          <Button type="submit" disabled={disabled || !dirty}>
            {busy && <LoaderCircle aria-hidden="true" className="motion-safe:animate-spin" />}
            Save configuration
          </Button>
        </CardFooter>
      </form>
    </Card>
  );
}
