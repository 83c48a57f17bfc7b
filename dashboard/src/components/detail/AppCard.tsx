import { CircleAlert, HeartPulse } from "lucide-react";

import type { Deployment } from "@/api/schema";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { APP_TROUBLE, appTrouble, runOf, type AppTrouble } from "@/lib/app";

/** CrashLoopBackOff / HealthCheckFailed as a badge that says its reason, and the status message. */
export function AppTroubleBadge({ trouble, withMessage = false }: { trouble: AppTrouble; withMessage?: boolean }) {
  const Icon = trouble.reason === "HealthCheckFailed" ? HeartPulse : CircleAlert;
  return (
    <span className="inline-grid gap-1.5">
      <span
        data-testid="app-trouble"
        data-reason={trouble.reason}
        title={APP_TROUBLE[trouble.reason]}
        className="border-destructive/40 bg-destructive/10 text-destructive inline-flex w-fit items-center gap-1 rounded-full border px-2 py-0.5 text-xs font-medium whitespace-nowrap"
      >
        <Icon aria-hidden="true" className="size-3.5" />
        {trouble.reason}
      </span>
      {withMessage && (
        <span data-testid="app-trouble-message" className="text-sm break-words">
          {trouble.message}
        </span>
      )}
    </span>
  );
}

function seconds(n: number | undefined): string | null {
  return n === undefined ? null : `${String(n)} s`;
}

/** What a dynamic app runs as: command, port, health check, resources (spec.run). */
export function AppCard({ site }: { site: Deployment }) {
  const run = runOf(site);
  if (!run) return null;
  const trouble = appTrouble(site);
  const hc = run.healthCheck;
  const timing = [
    hc?.intervalSeconds !== undefined && `every ${seconds(hc.intervalSeconds) ?? ""}`,
    hc?.timeoutSeconds !== undefined && `timeout ${seconds(hc.timeoutSeconds) ?? ""}`,
    hc?.startSeconds !== undefined && `start period ${seconds(hc.startSeconds) ?? ""}`,
  ].filter(Boolean);
  const res = run.resources;
  const envNames = Object.keys(run.env ?? {});
  return (
    <Card className="gap-4" role="region" aria-labelledby="app-title">
      <CardHeader>
        <CardTitle>
          <h2 id="app-title">App</h2>
        </CardTitle>
      </CardHeader>
      <CardContent className="grid gap-4 text-sm">
        {trouble && (
          <div role="status" className="border-destructive/40 bg-destructive/5 grid gap-1 rounded-md border px-3 py-2">
            <AppTroubleBadge trouble={trouble} withMessage />
          </div>
        )}
        <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2">
          <dt className="text-muted-foreground">Command</dt>
          <dd className="min-w-0">
            <code data-testid="app-command" className="bg-muted rounded px-1.5 py-0.5 font-mono text-xs break-all">
              {run.command}
            </code>
          </dd>
          <dt className="text-muted-foreground">Port</dt>
          <dd data-testid="app-port" className="tabular-nums">
            {run.port}
          </dd>
          {run.image && (
            <>
              <dt className="text-muted-foreground">Image</dt>
              <dd className="font-mono text-xs break-all">{run.image}</dd>
            </>
          )}
          <dt className="text-muted-foreground">Health check</dt>
          <dd data-testid="app-health">
            {hc?.path ? <code className="font-mono text-xs">GET {hc.path}</code> : "the port accepts connections"}
            {timing.length > 0 && <span className="text-muted-foreground block text-xs">{timing.join(" · ")}</span>}
          </dd>
          <dt className="text-muted-foreground">Resources</dt>
          <dd data-testid="app-resources">
            {res?.memoryMiB !== undefined || res?.cpus !== undefined
              ? [res.memoryMiB !== undefined && `${String(res.memoryMiB)} MiB memory`, res.cpus !== undefined && `${String(res.cpus)} CPU`]
                  .filter(Boolean)
                  .join(" · ")
              : "the platform's defaults"}
          </dd>
          {envNames.length > 0 && (
            <>
              <dt className="text-muted-foreground">Environment</dt>
              <dd className="font-mono text-xs break-all">{envNames.join(", ")}</dd>
            </>
          )}
        </dl>
      </CardContent>
    </Card>
  );
}
