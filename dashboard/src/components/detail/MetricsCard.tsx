import { useState } from "react";

import { useMetrics } from "@/api/hooks";
import type { Deployment, MetricsWindow, SiteMetrics } from "@/api/schema";
import { Button } from "@/components/ui/button";
import { Card, CardAction, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { CLASSES, chartLabel, formatBytes, formatSeconds, slotsOf, type ClassName } from "@/lib/metrics";
import { cn } from "@/lib/utils";

const WINDOWS: readonly MetricsWindow[] = ["1h", "24h", "7d"];

const FILL: Record<ClassName, string> = {
  "2xx": "fill-success",
  "3xx": "fill-sky-500",
  "4xx": "fill-warning",
  "5xx": "fill-destructive",
  "1xx": "fill-muted-foreground",
};
const SWATCH: Record<ClassName, string> = {
  "2xx": "bg-success",
  "3xx": "bg-sky-500",
  "4xx": "bg-warning",
  "5xx": "bg-destructive",
  "1xx": "bg-muted-foreground",
};

function timeLabel(ms: number, window: MetricsWindow): string {
  const d = new Date(ms);
  return window === "7d"
    ? d.toLocaleDateString(undefined, { month: "short", day: "numeric" })
    : d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/**
 * Requests per step stacked by status class, drawn as plain SVG: one unit of width per step and
 * one of height per request, scaled by the viewBox, so no chart library is needed.
 */
function RequestsChart({ m }: { m: SiteMetrics }) {
  const slots = slotsOf(m);
  const max = Math.max(1, ...slots.map((s) => s.total));
  const first = slots[0];
  return (
    <figure className="grid gap-1">
      <div className="flex items-end gap-2">
        <svg
          role="img"
          aria-label={chartLabel(m)}
          data-testid="requests-chart"
          viewBox={`0 0 ${String(slots.length)} ${String(max)}`}
          preserveAspectRatio="none"
          className="bg-muted/40 h-32 w-full rounded-md"
        >
          {slots.map((s, i) => {
            let y = max;
            return CLASSES.map((c) => {
              const h = s.byClass[c];
              if (h <= 0) return null;
              y -= h;
              return (
                <rect key={`${String(i)}-${c}`} x={i + 0.1} y={y} width={0.8} height={h} className={FILL[c]}>
                  <title>{`${timeLabel(s.start, m.window)}: ${String(h)} ${c}`}</title>
                </rect>
              );
            });
          })}
        </svg>
        <span aria-hidden="true" className="text-muted-foreground -mt-1 self-start text-xs tabular-nums">
          {max}
        </span>
      </div>
      <figcaption aria-hidden="true" className="text-muted-foreground flex justify-between pr-6 text-xs">
        <span>{first ? timeLabel(first.start, m.window) : ""}</span>
        <span>now</span>
      </figcaption>
    </figure>
  );
}

function Totals({ m }: { m: SiteMetrics }) {
  const t = m.totals;
  const r = m.revisions;
  return (
    <dl className="grid grid-cols-2 gap-x-6 gap-y-2 text-sm sm:grid-cols-4" data-testid="metrics-totals">
      <div>
        <dt className="text-muted-foreground text-xs">Requests</dt>
        <dd className="font-medium tabular-nums">{t.requests}</dd>
      </div>
      {(["2xx", "3xx", "4xx", "5xx"] as const).map((c) => (
        <div key={c}>
          <dt className="text-muted-foreground flex items-center gap-1.5 text-xs">
            <span aria-hidden="true" className={cn("size-2 rounded-sm", SWATCH[c])} />
            {c}
          </dt>
          <dd className="tabular-nums">{t.byClass[c] ?? 0}</dd>
        </div>
      ))}
      <div>
        <dt className="text-muted-foreground text-xs">Sent</dt>
        <dd className="tabular-nums">{formatBytes(t.bytesOut)}</dd>
      </div>
      {t.requests > 0 && (
        <>
          <div>
            <dt className="text-muted-foreground text-xs">p50 latency</dt>
            <dd className="tabular-nums">≤ {formatSeconds(t.latency.p50Seconds)}</dd>
          </div>
          <div>
            <dt className="text-muted-foreground text-xs">p99 latency</dt>
            <dd className="tabular-nums">≤ {formatSeconds(t.latency.p99Seconds)}</dd>
          </div>
        </>
      )}
      <div>
        <dt className="text-muted-foreground text-xs">Deploys</dt>
        <dd className="tabular-nums">
          {r.deploys}
          {r.failed > 0 && <span className="text-destructive"> ({r.failed} failed)</span>}
        </dd>
      </div>
      {r.builds > 0 && (
        <div>
          <dt className="text-muted-foreground text-xs">Build time</dt>
          <dd className="tabular-nums">
            {formatSeconds(r.buildSecondsMean)} mean · {formatSeconds(r.buildSecondsMax)} max
          </dd>
        </div>
      )}
    </dl>
  );
}

/** The site's traffic through the edge (issue 19), a window at a time. */
export function MetricsCard({ site }: { site: Deployment }) {
  const [window, setWindow] = useState<MetricsWindow>("1h");
  const q = useMetrics(site.slug, window, site.phase !== "deleting");
  const m = q.data?.window === window ? q.data : undefined;

  return (
    <Card className="gap-4" role="region" aria-labelledby="metrics-title">
      <CardHeader>
        <CardTitle>
          <h2 id="metrics-title">Metrics</h2>
        </CardTitle>
        <CardAction>
          <div role="group" aria-label="Window" className="bg-muted inline-flex rounded-md p-0.5">
            {WINDOWS.map((w) => (
              <Button
                key={w}
                type="button"
                size="sm"
                variant={w === window ? "secondary" : "ghost"}
                aria-pressed={w === window}
                className={cn("h-7 px-2.5", w === window && "bg-background shadow-sm")}
                onClick={() => setWindow(w)}
              >
                {w}
              </Button>
            ))}
          </div>
        </CardAction>
      </CardHeader>
      <CardContent className="grid gap-4" aria-busy={q.isFetching} data-window={window}>
        {q.isError && !m && (
          <p role="alert" className="text-muted-foreground text-sm">
            The metrics could not be loaded: {q.error.message}
          </p>
        )}
        {!m && !q.isError && <Skeleton className="h-32 w-full" />}
        {m && (m.totals.requests === 0 ? (
          <p className="text-muted-foreground bg-muted/40 grid h-20 place-items-center rounded-md text-sm">No requests in this window</p>
        ) : (
          <RequestsChart m={m} />
        ))}
        {m && <Totals m={m} />}
        <p className="text-muted-foreground text-xs">
          Counted at the edge (Traefik), a scrape interval behind; requests per {m ? formatStep(m.stepSeconds) : "step"}.
        </p>
      </CardContent>
    </Card>
  );
}

function formatStep(s: number): string {
  if (s % 3600 === 0) return s === 3600 ? "hour" : `${String(s / 3600)} hours`;
  if (s % 60 === 0) return s === 60 ? "minute" : `${String(s / 60)} minutes`;
  return `${String(s)} s`;
}
