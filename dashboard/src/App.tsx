import { lazy, Suspense } from "react";
import { QueryClientProvider } from "@tanstack/react-query";
import { createBrowserRouter, Navigate, Outlet, RouterProvider, useLocation } from "react-router";

import { makeQueryClient } from "@/api/queryClient";
import { SessionProvider, useSession } from "@/api/context";
import { Layout } from "@/components/Layout";
import { Toaster } from "@/components/ui/sonner";
import { ThemeProvider } from "@/hooks/use-theme";
import { SignInPage } from "@/pages/SignIn";
import { SitesPage } from "@/pages/Sites";
import { NotFoundPage } from "@/pages/NotFound";
import { PageSkeleton } from "@/pages/PageSkeleton";

const NewSitePage = lazy(() => import("@/pages/NewSite"));
const SiteDetailPage = lazy(() => import("@/pages/SiteDetail"));

function RequireSession() {
  const { token } = useSession();
  const location = useLocation();
  if (!token) return <Navigate to="/signin" replace state={{ from: location.pathname + location.search }} />;
  return <Outlet />;
}

const routes = [
  { path: "/signin", element: <SignInPage /> },
  {
    element: <RequireSession />,
    children: [
      {
        element: <Layout />,
        children: [
          { index: true, element: <SitesPage /> },
          {
            path: "new",
            element: (
              <Suspense fallback={<PageSkeleton />}>
                <NewSitePage />
              </Suspense>
            ),
          },
          {
            path: "deployments/:id",
            element: (
              <Suspense fallback={<PageSkeleton />}>
                <SiteDetailPage />
              </Suspense>
            ),
          },
          { path: "*", element: <NotFoundPage /> },
        ],
      },
    ],
  },
];

const router = createBrowserRouter(routes);
const queryClient = makeQueryClient();

export function App() {
  return (
    <ThemeProvider>
      <QueryClientProvider client={queryClient}>
        <SessionProvider>
          <RouterProvider router={router} />
          <Toaster position="bottom-right" richColors closeButton />
        </SessionProvider>
      </QueryClientProvider>
    </ThemeProvider>
  );
}
