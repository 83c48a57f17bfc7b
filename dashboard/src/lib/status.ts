/** From the API's fields to what the dashboard shows, and whether to keep polling. */
import type { Deployment, Revision, RevisionState, SiteStatus } from "@/api/schema";

export type Tone = "success" | "progress" | "danger" | "neutral";

export interface StatusView {
  /** Exactly the API's `status`: live, deploying or failed (deleting, in a DELETE's answer). */
  label: SiteStatus;
  tone: Tone;
  /** A finer word from `phase` when it says more than `status` (pending, deleting). */
  detail: string | null;
}

type StatusFields = Pick<Deployment, "status" | "phase">;

export function statusView(d: StatusFields): StatusView {
  const tone: Tone = d.status === "live" ? "success" : d.status === "failed" ? "danger" : "progress";
  let detail: string | null = null;
  if (d.phase === "deleting" && d.status !== "deleting") detail = "deleting";
  else if (d.phase === "pending") detail = "queued";
  return { label: d.status, tone, detail };
}

/** Settled: nothing will change without a user action (live or failed, and not being deleted). */
export function isSettled(d: StatusFields): boolean {
  return (d.status === "live" || d.status === "failed") && d.phase !== "deleting";
}

export const FAST_POLL_MS = 1500;
export const SLOW_POLL_MS = 10000;

/** Poll fast while anything is on its way somewhere, slowly otherwise. */
export function pollInterval(sites: readonly StatusFields[] | StatusFields | undefined): number {
  if (sites === undefined) return SLOW_POLL_MS;
  const list: readonly StatusFields[] = "status" in sites ? [sites] : sites;
  return list.some((s) => !isSettled(s)) ? FAST_POLL_MS : SLOW_POLL_MS;
}

export function revisionTone(state: RevisionState): Tone {
  switch (state) {
    case "ready":
      return "success";
    case "failed":
    case "interrupted":
      return "danger";
    case "pending":
    case "building":
      return "progress";
    default:
      return "neutral";
  }
}

/** A revision is final once it will not change state by itself. */
export function isFinalRevision(state: RevisionState): boolean {
  return state !== "pending" && state !== "building";
}

/** Rollback is offered on a ready revision that is neither served nor already the target. */
export function canRollbackTo(r: Revision): boolean {
  return r.state === "ready" && !r.current && !r.desired;
}

/** The desired revision is being built (or waits for its build): Cancel makes sense. */
export function buildRunning(d: Pick<Deployment, "desired_revision" | "phase">, revisions: readonly Revision[] | undefined): boolean {
  if (d.phase === "deleting") return false;
  const desired = revisions?.find((r) => r.revision === d.desired_revision);
  return desired !== undefined && (desired.state === "building" || desired.state === "pending");
}

/** The short commit (or archive digest) a revision was built from. */
export function shortSource(r: Pick<Revision, "source" | "resolved_source">): string {
  const s = r.resolved_source || r.source;
  if (!s) return "";
  if (s.startsWith("sha256:")) return s.slice(7, 19);
  return /^[0-9a-f]{40}$/.test(s) ? s.slice(0, 7) : s;
}

const toneClass: Record<Tone, string> = {
  success: "border-success/30 bg-success/10 text-success",
  progress: "border-warning/30 bg-warning/10 text-warning",
  danger: "border-red-600/30 bg-red-500/10 text-red-700 dark:text-red-300",
  neutral: "border-border bg-muted text-muted-foreground",
};

export function toneClasses(t: Tone): string {
  return toneClass[t];
}
