import { useRef, useState, type SubmitEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { LoaderCircle } from "lucide-react";
import { useNavigate } from "react-router";
import { toast } from "sonner";

import { useApi } from "@/api/context";
import { keys } from "@/api/hooks";
import type { Deployment } from "@/api/schema";
import { DropZone } from "@/components/DropZone";
import { EnvVarsEditor } from "@/components/EnvVarsEditor";
import { FormError, FormField } from "@/components/FormField";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Progress } from "@/components/ui/progress";
import { Switch } from "@/components/ui/switch";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { mapApiError, matchCreatePath, type CreateField, type FieldErrors } from "@/lib/formErrors";
import { suggestName, validateCreate, type CreateForm, type Source } from "@/lib/createForm";
import { envRowsToObject, validateName, type EnvRow } from "@/lib/validation";
import { archiveFor, formatBytes, type Picked } from "@/lib/zip";

type Stage = "idle" | "zipping" | "uploading" | "creating";

const FIELD_IDS: Record<CreateField, string> = {
  name: "site-name",
  repoUrl: "repo-url",
  branch: "branch",
  buildCmd: "build-cmd",
  outputDir: "output-dir",
  env: "new-env",
  file: "drop",
  autoDeploy: "auto-deploy",
};

export default function NewSitePage() {
  const api = useApi();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [source, setSource] = useState<Source>("upload");
  const [name, setName] = useState("");
  const nameTouched = useRef(false);
  const [picked, setPicked] = useState<Picked | null>(null);
  const [repoUrl, setRepoUrl] = useState("");
  const [branch, setBranch] = useState("");
  const [autoDeploy, setAutoDeploy] = useState(false);
  const [buildCmd, setBuildCmd] = useState("");
  const [outputDir, setOutputDir] = useState("");
  const [envRows, setEnvRows] = useState<EnvRow[]>([]);
  const [errors, setErrors] = useState<FieldErrors<CreateField>>({});
  const [stage, setStage] = useState<Stage>("idle");
  const [progress, setProgress] = useState<{ loaded: number; total: number } | null>(null);
  const busy = stage !== "idle";

  const clearError = (k: CreateField) => setErrors((e) => (e[k] || e.form ? { ...e, [k]: undefined, form: undefined } : e));

  const focusFirst = (e: FieldErrors<CreateField>) => {
    const order: CreateField[] = ["name", "file", "repoUrl", "branch", "buildCmd", "outputDir", "env"];
    const first = order.find((k) => e[k]);
    const el = first ? document.getElementById(FIELD_IDS[first]) : document.querySelector<HTMLElement>("[data-form-error]");
    (first === "file" ? document.querySelector<HTMLElement>("[data-testid=drop-zone] input") : el)?.focus();
  };

  const onPick = (p: Picked | null) => {
    setPicked(p);
    clearError("file");
    if (p && !nameTouched.current) {
      const n = suggestName(p.kind === "archive" ? p.file.name : p.kind === "folder" ? p.name : "");
      if (n && !validateName(n)) setName(n);
    }
  };

  const succeeded = (d: Deployment) => {
    void qc.invalidateQueries({ queryKey: keys.deployments });
    qc.setQueryData(keys.deployment(d.slug), d);
    toast.success(`${d.name} is deploying`, { description: d.url });
    for (const w of d.warnings ?? []) toast.warning(w);
    void navigate(`/deployments/${encodeURIComponent(d.slug)}`);
  };

  const onSubmit = async (ev: SubmitEvent) => {
    ev.preventDefault();
    if (busy) return;
    const form: CreateForm = { source, name, picked, repoUrl, branch, buildCmd, outputDir, envRows };
    const local = validateCreate(form);
    if (Object.keys(local).some((k) => local[k as CreateField])) {
      setErrors(local);
      setTimeout(() => focusFirst(local));
      return;
    }
    setErrors({});
    const env = envRowsToObject(envRows);
    const common = {
      name,
      slug: name,
      build_cmd: buildCmd.trim() || undefined,
      output_dir: outputDir.trim() || undefined,
      env_vars: Object.keys(env).length ? env : undefined,
    };
    try {
      if (source === "upload" && picked) {
        let archive: { blob: Blob; fileName: string };
        if (picked.kind === "folder") {
          setStage("zipping");
          archive = await archiveFor(picked);
        } else {
          archive = await archiveFor(picked);
        }
        setStage("uploading");
        setProgress({ loaded: 0, total: archive.blob.size });
        const d = await api.createUpload({
          ...common,
          file: archive.blob,
          fileName: archive.fileName,
          onProgress: (loaded, total) => {
            setProgress({ loaded, total });
            if (loaded >= total) setStage("creating");
          },
        });
        succeeded(d);
      } else {
        setStage("creating");
        const d = await api.createGit({
          ...common,
          github_url: repoUrl.trim(),
          branch: branch.trim() || undefined,
          auto_deploy: autoDeploy,
        });
        succeeded(d);
      }
    } catch (err) {
      const mapped = mapApiError(err, matchCreatePath, { already_exists: "name", conflict: "name", too_large: "file", unsupported: "file" });
      setErrors(mapped);
      setTimeout(() => focusFirst(mapped));
    } finally {
      setStage("idle");
      setProgress(null);
    }
  };

  const pct = progress && progress.total > 0 ? Math.min(100, Math.round((progress.loaded / progress.total) * 100)) : 0;

  return (
    <div className="mx-auto grid max-w-3xl gap-6">
      <div className="grid gap-1">
        <h1 className="text-2xl font-semibold tracking-tight">New site</h1>
        <p className="text-muted-foreground text-sm">Upload a built site or point at a Git repository; LaunchPad builds and serves it.</p>
      </div>
      <form onSubmit={(e) => void onSubmit(e)} noValidate className="grid gap-6" aria-busy={busy}>
        <Card>
          <CardHeader>
            <CardTitle>
              <h2>Site</h2>
            </CardTitle>
            <CardDescription>The name is also the site's address.</CardDescription>
          </CardHeader>
          <CardContent className="grid gap-4">
            <FormField
              id={FIELD_IDS.name}
              label="Name"
              error={errors.name}
              hint={
                <>
                  Lowercase letters, digits and “-”, at most 63. The site will answer at{" "}
                  <span className="font-mono">{name || "name"}.localhost</span>.
                </>
              }
            >
              {(p) => (
                <Input
                  {...p}
                  value={name}
                  disabled={busy}
                  autoComplete="off"
                  spellCheck={false}
                  placeholder="my-site"
                  maxLength={63}
                  onChange={(e) => {
                    nameTouched.current = true;
                    setName(e.target.value);
                    clearError("name");
                  }}
                />
              )}
            </FormField>

            <Tabs value={source} onValueChange={(v) => setSource(v as Source)} className="gap-4">
              <div className="grid gap-2">
                <span className="text-sm font-medium" id="source-label">
                  Source
                </span>
                <TabsList aria-labelledby="source-label" className="w-full sm:w-fit">
                  <TabsTrigger value="upload" disabled={busy}>
                    Upload
                  </TabsTrigger>
                  <TabsTrigger value="git" disabled={busy}>
                    Git repository
                  </TabsTrigger>
                </TabsList>
              </div>
              <TabsContent value="upload" className="grid gap-4">
                <DropZone picked={picked} onPick={onPick} error={errors.file} disabled={busy} />
              </TabsContent>
              <TabsContent value="git" className="grid gap-4">
                <FormField
                  id={FIELD_IDS.repoUrl}
                  label="Repository URL"
                  error={errors.repoUrl}
                  hint="A public repository, e.g. https://github.com/user/repo."
                >
                  {(p) => (
                    <Input
                      {...p}
                      type="url"
                      inputMode="url"
                      value={repoUrl}
                      disabled={busy}
                      autoComplete="off"
                      spellCheck={false}
                      placeholder="https://github.com/user/repo"
                      onChange={(e) => {
                        setRepoUrl(e.target.value);
                        clearError("repoUrl");
                      }}
                    />
                  )}
                </FormField>
                <FormField id={FIELD_IDS.branch} label="Branch" error={errors.branch} hint="Empty: main.">
                  {(p) => (
                    <Input
                      {...p}
                      value={branch}
                      disabled={busy}
                      autoComplete="off"
                      spellCheck={false}
                      placeholder="main"
                      onChange={(e) => {
                        setBranch(e.target.value);
                        clearError("branch");
                      }}
                    />
                  )}
                </FormField>
                <div className="flex items-start gap-3">
                  <Switch
                    id={FIELD_IDS.autoDeploy}
                    checked={autoDeploy}
                    disabled={busy}
                    onCheckedChange={setAutoDeploy}
                    aria-describedby="auto-deploy-hint"
                  />
                  <div className="grid gap-1">
                    <Label htmlFor={FIELD_IDS.autoDeploy}>Auto-deploy on push</Label>
                    <p id="auto-deploy-hint" className="text-muted-foreground text-xs">
                      A GitHub push webhook to this branch starts a new deploy (setup on the site's page).
                    </p>
                    {errors.autoDeploy && <p className="text-destructive text-sm">{errors.autoDeploy}</p>}
                  </div>
                </div>
              </TabsContent>
            </Tabs>
          </CardContent>
        </Card>

        <Card>
          <CardHeader>
            <CardTitle>
              <h2>Build</h2>
            </CardTitle>
            <CardDescription>Optional. Without a build command the files are served as they are.</CardDescription>
          </CardHeader>
          <CardContent className="grid gap-4">
            <FormField
              id={FIELD_IDS.buildCmd}
              label="Build command"
              error={errors.buildCmd}
              hint="Run with sh -c in the source folder, e.g. npm ci && npm run build."
            >
              {(p) => (
                <Input
                  {...p}
                  value={buildCmd}
                  disabled={busy}
                  autoComplete="off"
                  spellCheck={false}
                  className="font-mono"
                  placeholder="e.g. npm ci && npm run build"
                  onChange={(e) => {
                    setBuildCmd(e.target.value);
                    clearError("buildCmd");
                  }}
                />
              )}
            </FormField>
            <FormField
              id={FIELD_IDS.outputDir}
              label="Output directory"
              error={errors.outputDir}
              hint={
                source === "git"
                  ? "The folder to serve, relative to the repository. Empty: dist when there is a build, else the root."
                  : "The folder to serve, relative to the archive. Empty: its root."
              }
            >
              {(p) => (
                <Input
                  {...p}
                  value={outputDir}
                  disabled={busy}
                  autoComplete="off"
                  spellCheck={false}
                  className="font-mono"
                  placeholder={source === "git" ? "dist" : "."}
                  onChange={(e) => {
                    setOutputDir(e.target.value);
                    clearError("outputDir");
                  }}
                />
              )}
            </FormField>
            <EnvVarsEditor
              idPrefix="new"
              rows={envRows}
              disabled={busy}
              error={errors.env}
              onChange={(r) => {
                setEnvRows(r);
                clearError("env");
              }}
            />
            {envRows.length > 0 && !buildCmd.trim() && (
              <p className="text-muted-foreground text-xs">Environment variables are given to the build command only.</p>
            )}
          </CardContent>
        </Card>

        <FormError message={errors.form} />

        {stage !== "idle" && (
          <div className="grid gap-2" aria-live="polite">
            <div className="flex justify-between text-sm">
              <span>
                {stage === "zipping"
                  ? "Zipping the folder…"
                  : stage === "uploading"
                    ? "Uploading…"
                    : source === "upload"
                      ? "Upload complete, creating the site…"
                      : "Creating the site…"}
              </span>
              {progress && (
                <span className="text-muted-foreground tabular-nums">
                  {formatBytes(progress.loaded)} / {formatBytes(progress.total)} · {pct}%
                </span>
              )}
            </div>
            {source === "upload" && <Progress value={stage === "zipping" ? 0 : pct} aria-label="Upload progress" />}
          </div>
        )}

        <div className="flex justify-end gap-2">
          <Button type="button" variant="ghost" disabled={busy} onClick={() => void navigate("/")}>
            Back to sites
          </Button>
          <Button type="submit" aria-busy={busy} disabled={busy}>
            {busy && <LoaderCircle aria-hidden="true" className="motion-safe:animate-spin" />}
            Deploy
          </Button>
        </div>
      </form>
    </div>
  );
}
