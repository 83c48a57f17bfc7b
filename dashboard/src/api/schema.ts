/**
 * The one source of truth for the API's response shapes (docs/api.md). The TypeScript types are
 * inferred from these schemas, the client validates what it receives against them, and the e2e
 * suite validates every real response of the C apiserver against them: a drift fails a test.
 *
 * Objects are not `.strict()`: a field the server adds later must not break the dashboard.
 */
import { z } from "zod/mini";

const isoTime = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, "an ISO-8601 UTC time"));
const nullableTime = z.nullable(isoTime);
const int = z.int();

/** The seed's three statuses; the answer to a DELETE says "deleting". */
export const siteStatusSchema = z.enum(["live", "deploying", "failed", "deleting"]);
export const sitePhaseSchema = z.enum(["pending", "deploying", "live", "failed", "deleting"]);

export const conditionSchema = z.object({
  type: z.string(),
  status: z.enum(["True", "False", "Unknown"]),
  reason: z.optional(z.string()),
  message: z.optional(z.string()),
});

/**
 * spec.run of a dynamic app (issue 18: a server the build output runs as, behind Traefik). Every
 * part but command and port optional: the backend is new, and a missing detail must not blank the
 * page.
 */
export const runSpecSchema = z.object({
  command: z.string(),
  port: int,
  image: z.optional(z.string()),
  healthCheck: z.optional(
    z.object({
      path: z.optional(z.string()),
      intervalSeconds: z.optional(z.number()),
      timeoutSeconds: z.optional(z.number()),
      startSeconds: z.optional(z.number()),
    }),
  ),
  /* a value is a string, or a secret {"value": "***", "secret": true} as in build.env */
  env: z.optional(z.record(z.string(), z.unknown())),
  resources: z.optional(z.object({ memoryMiB: z.optional(z.number()), cpus: z.optional(z.number()) })),
});

/** The Site manifest (docs/site-spec.md), as the API returns it in canonical form. */
export const siteManifestSchema = z.object({
  apiVersion: z.literal("launchpad.dev/v1"),
  kind: z.literal("Site"),
  metadata: z.object({ name: z.string() }),
  spec: z.object({
    source: z.union([
      z.object({ git: z.object({ url: z.string(), branch: z.string() }) }),
      z.object({ archive: z.object({ digest: z.string() }) }),
    ]),
    build: z.optional(
      z.object({
        image: z.optional(z.string()),
        command: z.optional(z.string()),
        outputDir: z.string(),
        env: z.record(z.string(), z.string()),
        timeoutSeconds: int,
      }),
    ),
    autoDeploy: z.boolean(),
    serve: z.object({
      spa: z.boolean(),
      notFoundPage: z.optional(z.string()),
      httpsRedirect: z.optional(z.boolean()),
      hsts: z.optional(z.boolean()),
    }),
    revisionHistoryLimit: int,
    domains: z.optional(z.array(z.string())),
    run: z.optional(runSpecSchema),
  }),
});

export const deploymentSchema = z.object({
  id: z.string().check(z.minLength(1)),
  slug: z.string().check(z.minLength(1)),
  name: z.string(),
  status: siteStatusSchema,
  url: z.string(),
  webhook_url: z.string(),
  webhook_secret: z.nullable(z.string()),
  source_type: z.enum(["github", "zip"]),
  github_url: z.nullable(z.string()),
  branch: z.nullable(z.string()),
  archive_digest: z.nullable(z.string()),
  build_cmd: z.string(),
  output_dir: z.string(),
  env_vars: z.record(z.string(), z.string()),
  auto_deploy: z.boolean(),
  created_at: nullableTime,
  updated_at: nullableTime,
  phase: sitePhaseSchema,
  generation: int,
  observed_generation: int,
  current_revision: int,
  desired_revision: int,
  resource_version: int,
  message: z.nullable(z.string()),
  conditions: z.array(conditionSchema),
  deletion_timestamp: nullableTime,
  spec: z.nullable(siteManifestSchema),
  /* a preview's owner (its slug); null for a site of its own; absent from older servers */
  parent: z.optional(z.nullable(z.string())),
  // custom domains (docs/domains.md) and the host their DNS CNAME names; optional for older servers
  domains: z.optional(z.array(z.string())),
  cname_target: z.optional(z.nullable(z.string())),
  // present on some answers only
  result: z.optional(z.string()),
  revision: z.optional(int),
  warnings: z.optional(z.array(z.string())),
});

export const deploymentListSchema = z.array(deploymentSchema);

/** One page of GET /api/deployments?limit=N[&continue=T]; continue and the count only when more follow. */
export const deploymentPageSchema = z.object({
  items: z.array(deploymentSchema),
  metadata: z.object({
    continue: z.optional(z.string().check(z.minLength(1))),
    remainingItemCount: z.optional(int.check(z.nonnegative())),
  }),
});

const count = z.number().check(z.nonnegative());
export const statusClassSchema = z.enum(["1xx", "2xx", "3xx", "4xx", "5xx"]);
/* the five classes today; a record of strings so another key breaks nothing */
const byClassSchema = z.record(z.string(), count);

/** GET /api/deployments/:id/metrics?window=1h|24h|7d (docs/api.md). */
export const metricsWindowSchema = z.enum(["1h", "24h", "7d"]);
export const siteMetricsSchema = z.object({
  name: z.string(),
  window: metricsWindowSchema,
  from: isoTime,
  to: isoTime,
  stepSeconds: int.check(z.positive()),
  totals: z.object({
    requests: count,
    byClass: byClassSchema,
    bytesIn: count,
    bytesOut: count,
    latency: z.object({
      meanSeconds: count,
      p50Seconds: count,
      p99Seconds: count,
      buckets: z.array(z.object({ le: z.union([z.number(), z.literal("+Inf")]), count })),
    }),
  }),
  /* one point per step that saw requests, oldest first */
  series: z.array(
    z.object({ time: isoTime, requests: count, byClass: byClassSchema, bytesOut: count, meanLatencySeconds: count }),
  ),
  revisions: z.object({
    deploys: count,
    failed: count,
    builds: count,
    buildSecondsMean: count,
    buildSecondsMax: count,
  }),
});

/** POST /api/users (admin) and GET /api/me. */
export const userSchema = z.object({
  username: z.string(),
  role: z.enum(["admin", "member"]),
  created_at: z.optional(nullableTime),
  can_log_in: z.optional(z.boolean()),
});

export const revisionStateSchema = z.enum([
  "pending",
  "building",
  "ready",
  "failed",
  "superseded",
  "interrupted",
  "cancelled",
]);
export const revisionTriggerSchema = z.enum(["create", "apply", "webhook", "redeploy", "rollback", "upload"]);

export const revisionSchema = z.object({
  revision: int.check(z.positive()),
  state: revisionStateSchema,
  trigger: revisionTriggerSchema,
  source: z.string(),
  resolved_source: z.string(),
  spec_hash: z.string(),
  message: z.string(),
  created_at: nullableTime,
  started_at: nullableTime,
  finished_at: nullableTime,
  duration_seconds: z.optional(z.number().check(z.nonnegative())),
  desired: z.boolean(),
  current: z.boolean(),
  /* docs/previews.md: a draft (deploy --draft) and the permalink of a ready revision */
  draft: z.optional(z.boolean()),
  permalink: z.optional(z.nullable(z.string())),
});

export const revisionListSchema = z.array(revisionSchema);

export const eventSchema = z.object({
  id: int,
  time: nullableTime,
  type: z.enum(["Normal", "Warning"]),
  reason: z.string(),
  message: z.string(),
});

export const eventListSchema = z.array(eventSchema);

export const errorDetailSchema = z.object({
  path: z.optional(z.string()),
  line: z.optional(int),
  column: z.optional(int),
  message: z.string(),
});

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.optional(z.array(errorDetailSchema)),
  }),
});

export const loginResponseSchema = z.object({
  token: z.string().check(z.minLength(1)),
  expires_at: z.optional(z.nullable(z.string())),
  username: z.optional(z.string()),
  role: z.optional(z.string()),
});

export const webhookInfoSchema = z.object({
  webhook_url: z.string(),
  webhook_secret: z.nullable(z.string()),
});

export const healthSchema = z.object({ status: z.string(), version: z.string() });

export type SiteStatus = z.infer<typeof siteStatusSchema>;
export type SitePhase = z.infer<typeof sitePhaseSchema>;
export type Condition = z.infer<typeof conditionSchema>;
export type SiteManifest = z.infer<typeof siteManifestSchema>;
export type Deployment = z.infer<typeof deploymentSchema>;
export type Revision = z.infer<typeof revisionSchema>;
export type RevisionState = z.infer<typeof revisionStateSchema>;
export type SiteEvent = z.infer<typeof eventSchema>;
export type ErrorDetail = z.infer<typeof errorDetailSchema>;
export type ErrorBody = z.infer<typeof errorBodySchema>;
export type LoginResponse = z.infer<typeof loginResponseSchema>;
export type RunSpec = z.infer<typeof runSpecSchema>;
export type DeploymentPage = z.infer<typeof deploymentPageSchema>;
export type StatusClass = z.infer<typeof statusClassSchema>;
export type MetricsWindow = z.infer<typeof metricsWindowSchema>;
export type SiteMetrics = z.infer<typeof siteMetricsSchema>;
export type WebhookInfo = z.infer<typeof webhookInfoSchema>;
