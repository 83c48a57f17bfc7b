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
export type WebhookInfo = z.infer<typeof webhookInfoSchema>;
