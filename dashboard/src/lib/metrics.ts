/**
 * From GET /api/deployments/:id/metrics to what the chart draws: one slot per step of the window
 * (the API sends only the steps that saw requests), stacked by status class, and the sentence a
 * screen reader hears in place of the picture.
 */
import type { SiteMetrics } from "@/api/schema";

/** Bottom to top in a bar; 1xx is rare enough to sit on top, unlabelled when zero. */
export const CLASSES = ["2xx", "3xx", "4xx", "5xx", "1xx"] as const;
export type ClassName = (typeof CLASSES)[number];

export interface Slot {
  /** Start of the step, ms since the epoch. */
  start: number;
  total: number;
  byClass: Record<ClassName, number>;
}

/** More slots than this would be a window the API does not have; a bad answer must not hang. */
const MAX_SLOTS = 1000;

function emptyClasses(): Record<ClassName, number> {
  return { "1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 };
}

/** Every step from `from` to `to`, the series' points in their place, zeros between them. */
export function slotsOf(m: Pick<SiteMetrics, "from" | "to" | "stepSeconds" | "series">): Slot[] {
  const from = Date.parse(m.from);
  const to = Date.parse(m.to);
  const step = m.stepSeconds * 1000;
  if (!Number.isFinite(from) || !Number.isFinite(to) || step <= 0 || to < from) return [];
  const n = Math.min(MAX_SLOTS, Math.max(1, Math.ceil((to - from) / step)));
  const slots: Slot[] = Array.from({ length: n }, (_, i) => ({ start: from + i * step, total: 0, byClass: emptyClasses() }));
  for (const p of m.series) {
    const i = Math.floor((Date.parse(p.time) - from) / step);
    const slot = slots[Math.min(Math.max(i, 0), n - 1)];
    if (!slot) continue;
    for (const c of CLASSES) {
      const v = p.byClass[c] ?? 0;
      slot.byClass[c] += v;
      slot.total += v;
    }
  }
  return slots;
}

/** "Requests in the last 1h: 32 total, 25 2xx, 7 4xx" (classes with none left out). */
export function chartLabel(m: Pick<SiteMetrics, "window" | "totals">): string {
  const parts = [`${String(m.totals.requests)} total`];
  for (const c of ["1xx", "2xx", "3xx", "4xx", "5xx"] as const) {
    const v = m.totals.byClass[c] ?? 0;
    if (v > 0) parts.push(`${String(v)} ${c}`);
  }
  return `Requests in the last ${m.window}: ${parts.join(", ")}`;
}

/** A latency bound as the API gives it (seconds): "≤ 5 ms", "≤ 1.5 s". */
export function formatSeconds(s: number): string {
  if (s < 1) return `${String(Math.round(s * 1000 * 10) / 10)} ms`;
  return `${String(Math.round(s * 100) / 100)} s`;
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${String(n)} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${(Math.round(v * 10) / 10).toFixed(1)} ${units[u] ?? "TB"}`;
}
