import { ExternalLink, History, RotateCcw, ScrollText, Upload } from "lucide-react";
import { toast } from "sonner";

import { useRollback } from "@/api/hooks";
import type { Revision } from "@/api/schema";
import { RelativeTime } from "@/components/RelativeTime";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { canRollbackTo, revisionTone, shortSource, toneClasses } from "@/lib/status";
import { formatDuration } from "@/lib/time";
import { cn } from "@/lib/utils";

export function RevisionsCard({
  siteId,
  revisions,
  loading,
  disabled,
  onShowLog,
}: {
  siteId: string;
  revisions: Revision[] | undefined;
  loading: boolean;
  disabled: boolean;
  onShowLog: (rev: number) => void;
}) {
  const rollback = useRollback(siteId);
  return (
    <Card className="gap-4 pb-0">
      <CardHeader>
        <CardTitle>
          <h2>Revisions</h2>
        </CardTitle>
        <CardDescription>Every deploy is a revision. Rolling back serves a ready one again, without a build.</CardDescription>
      </CardHeader>
      <CardContent className="px-0">
        {loading && (
          <div className="grid gap-2 px-4 pb-6 sm:px-6">
            <Skeleton className="h-10 w-full" />
            <Skeleton className="h-10 w-full" />
          </div>
        )}
        {revisions && revisions.length === 0 && (
          <p className="text-muted-foreground flex items-center gap-2 px-4 pb-6 text-sm sm:px-6">
            <History aria-hidden="true" className="size-4" /> No revisions yet.
          </p>
        )}
        {revisions && revisions.length > 0 && (
          <ul aria-label="Revisions" className="divide-y border-t">
            {revisions.map((r) => (
              <li
                key={r.revision}
                data-revision={r.revision}
                aria-label={`Revision ${r.revision}`}
                className="grid grid-cols-[auto_1fr_auto] items-center gap-x-3 gap-y-1 px-4 py-3 sm:px-6"
              >
                <span className="font-mono text-sm font-semibold tabular-nums">#{r.revision}</span>
                <div className="flex min-w-0 flex-wrap items-center gap-x-2 gap-y-1 text-sm">
                  <span className={cn("rounded-full border px-2 py-0.5 text-xs font-medium", toneClasses(revisionTone(r.state)))}>
                    {r.state}
                  </span>
                  {r.current && (
                    <span className="bg-primary text-primary-foreground rounded-full px-2 py-0.5 text-xs font-medium">serving</span>
                  )}
                  {r.desired && !r.current && (
                    <span className="rounded-full border border-dashed px-2 py-0.5 text-xs font-medium">target</span>
                  )}
                  {r.draft && (
                    <span className="rounded-full border border-dashed px-2 py-0.5 text-xs font-medium">draft</span>
                  )}
                  <span className="text-muted-foreground">{r.trigger}</span>
                  {shortSource(r) && (
                    <span className="text-muted-foreground font-mono text-xs" title={r.resolved_source || r.source}>
                      {shortSource(r)}
                    </span>
                  )}
                  <span className="text-muted-foreground text-xs">
                    <RelativeTime iso={r.created_at} />
                    {r.duration_seconds !== undefined && ` · ${formatDuration(r.duration_seconds)}`}
                  </span>
                  {r.message && r.state !== "ready" && (
                    <span className="text-muted-foreground w-full truncate text-xs" title={r.message}>
                      {r.message}
                    </span>
                  )}
                </div>
                <div className="flex items-center gap-1">
                  {r.permalink && (
                    <Button asChild variant="ghost" size="icon-sm">
                      <a
                        href={r.permalink}
                        target="_blank"
                        rel="noreferrer"
                        aria-label={`Open revision ${r.revision} at its permalink`}
                        title={r.permalink}
                      >
                        <ExternalLink aria-hidden="true" />
                      </a>
                    </Button>
                  )}
                  <Button
                    type="button"
                    variant="ghost"
                    size="icon-sm"
                    aria-label={`Show the log of revision ${r.revision}`}
                    title="Show its log"
                    onClick={() => onShowLog(r.revision)}
                  >
                    <ScrollText aria-hidden="true" />
                  </Button>
                  {canRollbackTo(r) && (
                    <Button
                      type="button"
                      variant="outline"
                      size="sm"
                      disabled={disabled || rollback.isPending}
                      onClick={() =>
                        rollback.mutate(r.revision, {
                          onSuccess: () =>
                            toast.success(r.draft ? `Publishing draft revision ${r.revision}` : `Rolling back to revision ${r.revision}`),
                          onError: (e) => toast.error(`${r.draft ? "Publish" : "Rollback"} failed: ${e.message}`),
                        })
                      }
                    >
                      {r.draft ? <Upload aria-hidden="true" /> : <RotateCcw aria-hidden="true" />}
                      {r.draft ? "Publish" : "Rollback"}
                    </Button>
                  )}
                </div>
              </li>
            ))}
          </ul>
        )}
      </CardContent>
    </Card>
  );
}
