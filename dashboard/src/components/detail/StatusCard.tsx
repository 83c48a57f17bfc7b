import type { Deployment } from "@/api/schema";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { appTrouble, runOf } from "@/lib/app";
import { cn } from "@/lib/utils";

function conditionClass(status: string): string {
  if (status === "True") return "bg-success";
  if (status === "False") return "bg-destructive";
  return "bg-warning";
}

/** The controller's view: phase, message, conditions, which revision serves. */
export function StatusCard({ site }: { site: Deployment }) {
  // an app's CrashLoopBackOff / HealthCheckFailed and its message are the App card's badge
  const trouble = runOf(site) ? appTrouble(site) : null;
  const message = trouble && trouble.message === site.message ? null : site.message;
  return (
    <Card className="gap-4">
      <CardHeader>
        <CardTitle>
          <h2>Status</h2>
        </CardTitle>
      </CardHeader>
      <CardContent className="grid gap-4 text-sm">
        <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2">
          <dt className="text-muted-foreground">Phase</dt>
          <dd data-testid="phase">{site.phase}</dd>
          <dt className="text-muted-foreground">Serving</dt>
          <dd>{site.current_revision ? `revision ${site.current_revision}` : "nothing yet"}</dd>
          <dt className="text-muted-foreground">Desired</dt>
          <dd>revision {site.desired_revision}</dd>
          <dt className="text-muted-foreground">Generation</dt>
          <dd>
            {site.observed_generation} of {site.generation} observed
          </dd>
        </dl>
        {message && (
          <p
            data-testid="status-message"
            className={cn(
              "rounded-md border px-3 py-2 break-words",
              site.status === "failed" ? "border-destructive/40 bg-destructive/10 text-destructive" : "bg-muted/50",
            )}
          >
            {message}
          </p>
        )}
        {site.conditions.length > 0 && (
          <div className="grid gap-2">
            <h3 className="text-muted-foreground text-xs font-medium tracking-wide uppercase">Conditions</h3>
            <ul className="grid gap-1.5">
              {site.conditions.map((c) => (
                <li key={c.type} className="flex items-center gap-2">
                  <span aria-hidden="true" className={cn("size-2 rounded-full", conditionClass(c.status))} />
                  <span className="font-medium">{c.type}</span>
                  <span className="text-muted-foreground">
                    {c.status}
                    {c.reason && c.reason !== trouble?.reason ? ` · ${c.reason}` : ""}
                  </span>
                </li>
              ))}
            </ul>
          </div>
        )}
      </CardContent>
    </Card>
  );
}
