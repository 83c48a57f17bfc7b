/**
 * The one source of truth for the API's response shapes (docs/api.md). The TypeScript types are
 * inferred from these schemas, the client validates what it receives against them, and the e2e
 * suite validates every real response of the C apiserver against them: a drift fails a test.
 *
 * Objects are not `.strict()`: a field the server adds later must not break the dashboard.
 */
import { z } from "zod";

const isoTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, "an ISO-8601 UTC time");
const nullableTime = isoTime.nullable();

export const siteStatusSchema = z.enum(["live", "deploying", "failed"]);
export const sitePhaseSchema = z.enum(["pending", "deploying", "live", "failed", "deleting"]);

export const conditionSchema = z.object({
  type: z.string(),
  status: z.enum(["True", "False", "Unknown"]),
  reason: z.string().optional(),
  message: z.string().optional(),
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
    build: z
      .object({
        image: z.string().optional(),
        command: z.string().optional(),
        outputDir: z.string(),
        env: z.record(z.string(), z.string()),
        timeoutSeconds: z.number().int(),
      })
      .optional(),
    autoDeploy: z.boolean(),
    serve: z.object({ spa: z.boolean(), notFoundPage: z.string().optional() }),
    revisionHistoryLimit: z.number().int(),
  }),
});

export const deploymentSchema = z.object({
  id: z.string().min(1),
  slug: z.string().min(1),
  name: z.string(),
  status: siteStatusSchema,
  url: z.string(),
  webhook_url: z.string(),
  webhook_secret: z.string().nullable(),
  source_type: z.enum(["github", "zip"]),
  github_url: z.string().nullable(),
  branch: z.string().nullable(),
  archive_digest: z.string().nullable(),
  build_cmd: z.string(),
  output_dir: z.string(),
  env_vars: z.record(z.string(), z.string()),
  auto_deploy: z.boolean(),
  created_at: nullableTime,
  updated_at: nullableTime,
  phase: sitePhaseSchema,
  generation: z.number().int(),
  observed_generation: z.number().int(),
  current_revision: z.number().int(),
  desired_revision: z.number().int(),
  resource_version: z.number().int(),
  message: z.string().nullable(),
  conditions: z.array(conditionSchema),
  deletion_timestamp: nullableTime,
  spec: siteManifestSchema.nullable(),
  // present on some answers only
  result: z.string().optional(),
  revision: z.number().int().optional(),
  warnings: z.array(z.string()).optional(),
});

export const deploymentListSchema = z.array(deploymentSchema);

export const revisionStateSchema = z.enum(["pending", "building", "ready", "failed", "superseded", "interrupted"]);
export const revisionTriggerSchema = z.enum(["create", "apply", "webhook", "redeploy", "rollback", "upload"]);

export const revisionSchema = z.object({
  revision: z.number().int().positive(),
  state: revisionStateSchema,
  trigger: revisionTriggerSchema,
  source: z.string(),
  resolved_source: z.string(),
  spec_hash: z.string(),
  message: z.string(),
  created_at: nullableTime,
  started_at: nullableTime,
  finished_at: nullableTime,
  duration_seconds: z.number().nonnegative().optional(),
  desired: z.boolean(),
  current: z.boolean(),
});

export const revisionListSchema = z.array(revisionSchema);

export const eventSchema = z.object({
  id: z.number().int(),
  time: nullableTime,
  type: z.enum(["Normal", "Warning"]),
  reason: z.string(),
  message: z.string(),
});

export const eventListSchema = z.array(eventSchema);

export const errorDetailSchema = z.object({
  path: z.string().optional(),
  line: z.number().int().optional(),
  column: z.number().int().optional(),
  message: z.string(),
});

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(errorDetailSchema).optional(),
  }),
});

export const loginResponseSchema = z.object({
  token: z.string().min(1),
  expires_at: z.string().nullable().optional(),
});

export const webhookInfoSchema = z.object({
  webhook_url: z.string(),
  webhook_secret: z.string().nullable(),
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
