import { useInfiniteQuery, useMutation, useQuery, useQueryClient, type InfiniteData } from "@tanstack/react-query";

import { pollInterval } from "@/lib/status";
import type { ManifestInput } from "@/lib/manifest";
import type { Deployment, DeploymentPage, MetricsWindow } from "./schema";
import { useApi } from "./context";

export const keys = {
  deployments: ["deployments"] as const,
  deployment: (id: string) => ["deployment", id] as const,
  revisions: (id: string) => ["revisions", id] as const,
  webhook: (id: string) => ["webhook", id] as const,
  previews: (id: string) => ["previews", id] as const,
  metrics: (id: string, window: MetricsWindow) => ["metrics", id, window] as const,
};

/** Sites per page of the list (issue 19: the dashboard reads the list a page at a time). */
export const PAGE_SIZE = 50;

type PagedSites = InfiniteData<DeploymentPage, string | null>;

/** Every site of the pages loaded so far, in the API's order. */
export function sitesOf(data: { pages: DeploymentPage[] } | undefined): Deployment[] | undefined {
  return data?.pages.flatMap((p) => p.items);
}

/**
 * The sites list, PAGE_SIZE at a time (`?limit=&continue=`); "Load more" is fetchNextPage. A poll
 * refetches the pages loaded so far, each from the token it was first read with (tokens are
 * positions in the order and never expire, so no page repeats or skips a site).
 */
export function useDeployments() {
  const api = useApi();
  return useInfiniteQuery({
    queryKey: keys.deployments,
    queryFn: ({ signal, pageParam }) => api.listPage(PAGE_SIZE, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last: DeploymentPage) => last.metadata.continue ?? null,
    refetchInterval: (q) => pollInterval(sitesOf(q.state.data)),
  });
}

export function useDeployment(id: string) {
  const api = useApi();
  const qc = useQueryClient();
  return useQuery<Deployment, Error, Deployment, readonly ["deployment", string]>({
    queryKey: keys.deployment(id),
    queryFn: ({ signal }) => api.getDeployment(id, signal),
    refetchInterval: (q) => (q.state.error ? false : pollInterval(q.state.data)),
    placeholderData: (): Deployment | undefined =>
      sitesOf(qc.getQueryData<PagedSites>(keys.deployments))?.find((d) => d.id === id || d.slug === id),
    retry: (n, err) => !(err instanceof Error && "status" in err && (err as { status: number }).status === 404) && n < 2,
  });
}

export function useRevisions(id: string, site: Deployment | undefined) {
  const api = useApi();
  return useQuery({
    queryKey: keys.revisions(id),
    queryFn: ({ signal }) => api.revisions(id, signal),
    enabled: site !== undefined,
    refetchInterval: () => (site ? pollInterval(site) : false),
  });
}

/** A site's previews; a server without the route (404) has none. */
export function usePreviews(id: string, site: Deployment | undefined) {
  const api = useApi();
  return useQuery({
    queryKey: keys.previews(id),
    queryFn: ({ signal }) => api.previews(id, signal),
    enabled: site !== undefined && !site.parent,
    refetchInterval: () => (site ? pollInterval(site) : false),
    retry: false,
  });
}

/** A site's request metrics over a window; refreshed about as often as the controller scrapes. */
export function useMetrics(id: string, window: MetricsWindow, enabled: boolean) {
  const api = useApi();
  return useQuery({
    queryKey: keys.metrics(id, window),
    queryFn: ({ signal }) => api.metrics(id, window, signal),
    enabled,
    refetchInterval: 15_000,
    placeholderData: (prev) => (prev?.window === window ? prev : undefined),
    retry: false,
  });
}

export function useWebhook(id: string, enabled: boolean) {
  const api = useApi();
  return useQuery({
    queryKey: keys.webhook(id),
    queryFn: ({ signal }) => api.webhook(id, signal),
    enabled,
    staleTime: 5 * 60_000,
  });
}

/** After any write: the list, the site and its revisions are stale. */
function useInvalidate() {
  const qc = useQueryClient();
  return (id?: string) => {
    void qc.invalidateQueries({ queryKey: keys.deployments });
    if (id) {
      void qc.invalidateQueries({ queryKey: keys.deployment(id) });
      void qc.invalidateQueries({ queryKey: keys.revisions(id) });
    }
  };
}

function useSeedSite() {
  const qc = useQueryClient();
  return (d: Deployment) => {
    qc.setQueryData(keys.deployment(d.id), d);
    qc.setQueryData(keys.deployment(d.slug), d);
  };
}

export function useRedeploy() {
  const api = useApi();
  const invalidate = useInvalidate();
  const seed = useSeedSite();
  return useMutation({
    mutationFn: (id: string) => api.redeploy(id),
    onSuccess: (d, id) => {
      seed(d);
      invalidate(id);
    },
  });
}

export function useDeleteSite() {
  const api = useApi();
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: (id: string) => api.remove(id),
    onSuccess: (_d, id) => invalidate(id),
  });
}

export function useRollback(id: string) {
  const api = useApi();
  const invalidate = useInvalidate();
  const seed = useSeedSite();
  return useMutation({
    mutationFn: (revision: number) => api.rollback(id, revision),
    onSuccess: (d) => {
      seed(d);
      invalidate(id);
    },
  });
}

export function useCancelBuild(id: string) {
  const api = useApi();
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: () => api.cancel(id),
    onSuccess: () => invalidate(id),
  });
}

export function useApply(id: string) {
  const api = useApi();
  const invalidate = useInvalidate();
  const seed = useSeedSite();
  return useMutation({
    mutationFn: (v: { slug: string; manifest: ManifestInput; resourceVersion: number }) =>
      api.apply(v.slug, v.manifest, v.resourceVersion),
    onSuccess: (d) => {
      seed(d);
      invalidate(id);
    },
  });
}

/** Does this server have POST /api/deployments/:id/cancel? (Being added: hidden until it does.) */
export function useCanCancel(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: ["route", "cancel", id],
    queryFn: () => api.hasRoute(`/api/deployments/${encodeURIComponent(id)}/cancel`),
    staleTime: Infinity,
    retry: false,
  });
}
