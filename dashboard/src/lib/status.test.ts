import { describe, expect, it } from "vitest";

import type { Revision } from "@/api/schema";
import {
  buildRunning,
  canRollbackTo,
  FAST_POLL_MS,
  isFinalRevision,
  isSettled,
  pollInterval,
  shortSource,
  SLOW_POLL_MS,
  statusView,
} from "./status";

const rev = (o: Partial<Revision>): Revision => ({
  revision: 1,
  state: "ready",
  trigger: "create",
  source: "",
  resolved_source: "",
  spec_hash: "",
  message: "",
  created_at: null,
  started_at: null,
  finished_at: null,
  desired: false,
  current: false,
  ...o,
});

describe("status badge", () => {
  it("shows the API's status word and a tone", () => {
    expect(statusView({ status: "live", phase: "live" })).toEqual({ label: "live", tone: "success", detail: null });
    expect(statusView({ status: "failed", phase: "failed" })).toEqual({ label: "failed", tone: "danger", detail: null });
    expect(statusView({ status: "deploying", phase: "deploying" })).toEqual({ label: "deploying", tone: "progress", detail: null });
  });

  it("adds the finer phase when it says more", () => {
    expect(statusView({ status: "deploying", phase: "deleting" }).detail).toBe("deleting");
    expect(statusView({ status: "deleting", phase: "deleting" })).toEqual({ label: "deleting", tone: "progress", detail: null });
    expect(statusView({ status: "deploying", phase: "pending" }).detail).toBe("queued");
  });
});

describe("settled and polling", () => {
  it("live and failed are settled; deploying, pending and deleting are not", () => {
    expect(isSettled({ status: "live", phase: "live" })).toBe(true);
    expect(isSettled({ status: "failed", phase: "failed" })).toBe(true);
    expect(isSettled({ status: "deploying", phase: "deploying" })).toBe(false);
    expect(isSettled({ status: "deploying", phase: "pending" })).toBe(false);
    expect(isSettled({ status: "deploying", phase: "deleting" })).toBe(false);
  });

  it("polls fast while anything is unsettled", () => {
    expect(pollInterval([{ status: "live", phase: "live" }, { status: "deploying", phase: "deploying" }])).toBe(FAST_POLL_MS);
    expect(pollInterval([{ status: "live", phase: "live" }, { status: "failed", phase: "failed" }])).toBe(SLOW_POLL_MS);
    expect(pollInterval([])).toBe(SLOW_POLL_MS);
    expect(pollInterval(undefined)).toBe(SLOW_POLL_MS);
    expect(pollInterval({ status: "deploying", phase: "pending" })).toBe(FAST_POLL_MS);
    expect(FAST_POLL_MS).toBeLessThanOrEqual(2000);
  });
});

describe("revisions", () => {
  it("only pending and building revisions are still moving; cancelled is final", () => {
    expect(isFinalRevision("cancelled")).toBe(true);
    expect(isFinalRevision("interrupted")).toBe(true);
    expect(isFinalRevision("building")).toBe(false);
    expect(isFinalRevision("pending")).toBe(false);
  });

  it("offers rollback on ready revisions that are neither served nor the target", () => {
    expect(canRollbackTo(rev({ state: "ready" }))).toBe(true);
    expect(canRollbackTo(rev({ state: "ready", current: true }))).toBe(false);
    expect(canRollbackTo(rev({ state: "ready", desired: true }))).toBe(false);
    expect(canRollbackTo(rev({ state: "failed" }))).toBe(false);
    expect(canRollbackTo(rev({ state: "superseded" }))).toBe(false);
  });

  it("knows when the desired revision's build runs", () => {
    const revs = [rev({ revision: 2, state: "building" }), rev({ revision: 1, state: "ready" })];
    expect(buildRunning({ desired_revision: 2, phase: "deploying" }, revs)).toBe(true);
    expect(buildRunning({ desired_revision: 1, phase: "live" }, revs)).toBe(false);
    expect(buildRunning({ desired_revision: 2, phase: "deleting" }, revs)).toBe(false);
    expect(buildRunning({ desired_revision: 2, phase: "deploying" }, undefined)).toBe(false);
  });

  it("shortens commits and digests", () => {
    expect(shortSource({ source: "", resolved_source: "0123456789abcdef0123456789abcdef01234567" })).toBe("0123456");
    expect(shortSource({ source: "sha256:8fed642e2155c1722077", resolved_source: "" })).toBe("8fed642e2155");
    expect(shortSource({ source: "", resolved_source: "" })).toBe("");
  });
});
