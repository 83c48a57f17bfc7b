/**
 * Where the API is. Same origin by default (the apiserver serves the dashboard); a standalone
 * build (Netlify, Vercel) sets VITE_LAUNCHPAD_API_URL at build time, e.g. https://api.example.com.
 */
export function normaliseBaseUrl(raw: string | undefined): string {
  const v = (raw ?? "").trim();
  return v.replace(/\/+$/, "");
}

export const API_BASE_URL = normaliseBaseUrl(import.meta.env.VITE_LAUNCHPAD_API_URL as string | undefined);
