import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";

import { UnauthorizedError } from "./client";

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    // a 401 already sent the user to sign-in (the client's onUnauthorized): no retry, no toast
    queryCache: new QueryCache(),
    mutationCache: new MutationCache(),
    defaultOptions: {
      queries: {
        retry: (n, err) => !(err instanceof UnauthorizedError) && n < 2,
        staleTime: 1000,
        refetchOnWindowFocus: true,
      },
      mutations: { retry: false },
    },
  });
}
