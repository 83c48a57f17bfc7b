import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { ArrowDown, CircleAlert, CircleCheck, LoaderCircle, WifiOff } from "lucide-react";

import { useApi } from "@/api/context";
import type { Revision } from "@/api/schema";
import { Button } from "@/components/ui/button";
import { Card, CardAction, CardHeader, CardTitle } from "@/components/ui/card";
import { LogFollower, type FollowState } from "@/lib/logStream";
import { cn } from "@/lib/utils";

const MAX_LINES = 20000;
const STAMP = /^(\d{4}-\d{2}-\d{2}T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z) (.*)$/;

export function LogLine({ text }: { text: string }) {
  const m = STAMP.exec(text);
  const body = m ? (m[3] ?? "") : text;
  return (
    <div className={cn("px-3 whitespace-pre-wrap break-words", body.startsWith("==>") && "text-sky-300 font-semibold")}>
      {m && (
        <time dateTime={m[1]} className="mr-3 hidden text-zinc-400 select-none sm:inline">
          {m[2]}
        </time>
      )}
      {body || "\u00a0"}
    </div>
  );
}

function useFollow(siteId: string, revision: number) {
  const api = useApi();
  const [lines, setLines] = useState<string[]>([]);
  const [state, setState] = useState<FollowState>("connecting");
  const [endState, setEndState] = useState<string | null>(null);
  const [detail, setDetail] = useState<string | null>(null);
  const followerRef = useRef<LogFollower | null>(null);

  // the caller keys this component by site and revision: state starts fresh for each log
  useEffect(() => {
    if (revision < 1) return;
    const f = new LogFollower({
      open: (signal, from) => api.openLog(siteId, revision, signal, from ? Number(from) : 0),
      onLines: (l) => setLines((prev) => {
        const next = prev.concat(l);
        return next.length > MAX_LINES ? next.slice(next.length - MAX_LINES) : next;
      }),
      onEnd: (s) => setEndState(s),
      onState: (s, d) => {
        setState(s);
        setDetail(d ?? null);
      },
    });
    followerRef.current = f;
    void f.start();
    return () => {
      f.stop();
      followerRef.current = null;
    };
  }, [api, siteId, revision]);

  // back from another tab or from offline: a stream that died resumes at once
  useEffect(() => {
    const wake = () => {
      const f = followerRef.current;
      if (document.visibilityState === "visible" && f && !f.isEnded) f.reconnect();
    };
    const onVisible = () => {
      if (document.visibilityState === "visible" && state !== "streaming") wake();
    };
    document.addEventListener("visibilitychange", onVisible);
    window.addEventListener("online", wake);
    return () => {
      document.removeEventListener("visibilitychange", onVisible);
      window.removeEventListener("online", wake);
    };
  }, [state]);

  return { lines, state, endState, detail };
}

function StreamState({ state, endState, detail }: { state: FollowState; endState: string | null; detail: string | null }) {
  if (state === "ended") {
    const ok = endState === "ready";
    return (
      <span className={cn("inline-flex items-center gap-1 text-xs", ok ? "text-success" : "text-muted-foreground")}>
        {ok ? <CircleCheck aria-hidden="true" className="size-3.5" /> : <CircleAlert aria-hidden="true" className="size-3.5" />}
        Finished: {endState}
      </span>
    );
  }
  if (state === "reconnecting" || state === "error")
    return (
      <span className="text-warning inline-flex items-center gap-1 text-xs">
        <WifiOff aria-hidden="true" className="size-3.5" />
        {state === "error" ? `Stopped: ${detail ?? "error"}` : "Reconnecting…"}
      </span>
    );
  return (
    <span className="text-muted-foreground inline-flex items-center gap-1 text-xs">
      <LoaderCircle aria-hidden="true" className="size-3.5 motion-safe:animate-spin" />
      {state === "streaming" ? "Following" : "Connecting…"}
    </span>
  );
}

/** The scrolling output of one revision's log; keyed by revision, so each log starts empty. */
function LogView({ siteId, revision }: { siteId: string; revision: number }) {
  const { lines, state, endState, detail } = useFollow(siteId, revision);
  const boxRef = useRef<HTMLDivElement>(null);
  const [stick, setStick] = useState(true);

  useLayoutEffect(() => {
    const el = boxRef.current;
    if (el && stick) el.scrollTop = el.scrollHeight;
  }, [lines, stick]);

  const onScroll = useCallback(() => {
    const el = boxRef.current;
    if (!el) return;
    setStick(el.scrollHeight - el.scrollTop - el.clientHeight < 24);
  }, []);

  const jump = () => {
    const el = boxRef.current;
    if (el) el.scrollTop = el.scrollHeight;
    setStick(true);
  };

  return (
    <>
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 text-sm sm:px-6">
        <span className="text-muted-foreground">Revision {revision > 0 ? revision : "none"}</span>
        {revision > 0 && <StreamState state={state} endState={endState} detail={detail} />}
        <span className="sr-only" aria-live="polite">
          {state === "ended" ? `Build log finished: ${endState ?? ""}` : ""}
        </span>
      </div>
      <div className="relative">
        <div
          ref={boxRef}
          onScroll={onScroll}
          tabIndex={0}
          role="log"
          aria-live="off"
          aria-label={`Output of revision ${revision}`}
          data-testid="log-lines"
          data-state={state}
          className="bg-log-background text-log-foreground h-80 overflow-y-auto py-3 font-mono text-xs leading-5 outline-none focus-visible:ring-[3px] focus-visible:ring-ring/50 sm:h-96"
        >
          {lines.length === 0 && (
            <div className="px-3 text-zinc-400">
              {revision < 1 ? "No revision yet." : state === "ended" ? "This build wrote no log." : "Waiting for the build to write…"}
            </div>
          )}
          {lines.map((l, i) => (
            <LogLine key={i} text={l} />
          ))}
        </div>
        {!stick && (
          <Button type="button" size="sm" variant="secondary" className="absolute right-4 bottom-3 shadow-md" onClick={jump}>
            <ArrowDown aria-hidden="true" /> Jump to latest
          </Button>
        )}
      </div>
    </>
  );
}

/**
 * The live build log of one revision (SSE over fetch, so the token goes in a header). Sticks to
 * the bottom while new lines come; scrolling up pauses that and offers "Jump to latest".
 */
export function BuildLog({
  siteId,
  revision,
  revisions,
  pinned,
  onPin,
}: {
  siteId: string;
  revision: number;
  revisions: Revision[] | undefined;
  /** A revision the user chose; null follows the desired one. */
  pinned: number | null;
  onPin: (rev: number | null) => void;
}) {
  return (
    <Card className="gap-3 overflow-hidden pb-0" role="region" aria-labelledby="build-log-title">
      <CardHeader>
        <CardTitle>
          <h2 id="build-log-title">Build log</h2>
        </CardTitle>
        <CardAction>
          <label className="sr-only" htmlFor="log-revision">
            Show the log of
          </label>
          <select
            id="log-revision"
            className="border-input bg-background h-8 max-w-44 rounded-md border px-2 text-sm"
            value={pinned === null ? "follow" : String(pinned)}
            onChange={(e) => onPin(e.target.value === "follow" ? null : Number(e.target.value))}
          >
            <option value="follow">Latest</option>
            {(revisions ?? []).map((r) => (
              <option key={r.revision} value={r.revision}>
                Revision {r.revision} · {r.state}
              </option>
            ))}
          </select>
        </CardAction>
      </CardHeader>
      <LogView key={`${siteId}:${revision}`} siteId={siteId} revision={revision} />
    </Card>
  );
}
