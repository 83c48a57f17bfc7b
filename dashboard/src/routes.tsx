/* eslint-disable react-refresh/only-export-components -- the route table (shared with the tests), not a component module */
import { lazy, Suspense } from "react";
import { Navigate, Outlet, useLocation, type RouteObject } from "react-router";

import { useSession } from "@/api/context";
import { Layout } from "@/components/Layout";
import { NotFoundPage } from "@/pages/NotFound";
import { PageSkeleton } from "@/pages/PageSkeleton";
import { SignInPage } from "@/pages/SignIn";
import { SitesPage } from "@/pages/Sites";

const NewSitePage = lazy(() => import("@/pages/NewSite"));
const SiteDetailPage = lazy(() => import("@/pages/SiteDetail"));

function RequireSession() {
  const { token } = useSession();
  const location = useLocation();
  if (!token) return <Navigate to="/signin" replace state={{ from: location.pathname + location.search }} />;
  return <Outlet />;
}

export const routes: RouteObject[] = [
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

