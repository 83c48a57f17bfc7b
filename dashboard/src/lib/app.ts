/** Dynamic apps (issue 18): what the dashboard reads of spec.run and of the app's status. */
import type { Deployment, RunSpec } from "@/api/schema";

/** The status reasons of an app that does not stay up, each with what it means to a user. */
export const APP_TROUBLE: Readonly<Record<string, string>> = {
  CrashLoopBackOff: "The app keeps exiting; it is restarted with a growing delay.",
  HealthCheckFailed: "The app does not answer its health check; the previous revision keeps serving.",
  // docs/apps.md: a running app whose health check fails; Traefik does not route it meanwhile
  Unhealthy: "The running app fails its health check; it gets no traffic until it passes.",
};

export function runOf(site: Pick<Deployment, "spec">): RunSpec | null {
  return site.spec?.spec.run ?? null;
}

export interface AppTrouble {
  reason: string;
  /** The controller's words (the condition's message, else the site's). */
  message: string;
}

/** The first condition whose reason says the app is in trouble, with the status message. */
export function appTrouble(site: Pick<Deployment, "conditions" | "message">): AppTrouble | null {
  for (const c of site.conditions) {
    if (c.reason && c.reason in APP_TROUBLE) {
      return { reason: c.reason, message: c.message ?? site.message ?? APP_TROUBLE[c.reason] ?? "" };
    }
  }
  return null;
}

/** Lines of app log kept in the page: an app writes for as long as it runs; the oldest go first. */
export const APP_LOG_MAX_LINES = 5000;

/** Append, dropping the oldest lines past `max`. */
export function appendBounded(prev: readonly string[], lines: readonly string[], max = APP_LOG_MAX_LINES): string[] {
  const next = prev.concat(lines);
  return next.length > max ? next.slice(next.length - max) : next;
}
