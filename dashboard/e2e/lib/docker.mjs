/** What Docker says about the platform's containers, and how a test reaches a site. */
import { run } from "./util.mjs";

export async function containersWithRole(instance, role) {
  const { stdout } = await run("docker", [
    "ps", "-aq", "--filter", `label=launchpad.instance=${instance}`, "--filter", `label=launchpad.role=${role}`,
  ]);
  return stdout.split("\n").filter(Boolean);
}

export async function siteContainers(instance, name) {
  const { stdout } = await run("docker", ["ps", "-aq", "--filter", `label=launchpad.instance=${instance}`, "--filter", `label=launchpad.site=${name}`]);
  return stdout.split("\n").filter(Boolean);
}

async function serveContainerIp(instance, name) {
  const { stdout } = await run("docker", [
    "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", `${instance}-deploy-${name}`,
  ]);
  const ip = stdout.trim().split(/\s+/).find(Boolean);
  if (!ip) throw new Error(`the serve container of ${name} has no IP address`);
  return ip;
}

/**
 * How the tests reach a deployed site. Today: the serve container's own address (there is no
 * Traefik in the test platform yet). When the platform reports Traefik's port, this becomes
 * `http://<name>.localhost:<port>/` through Traefik: this is the one function to change.
 */
export async function siteBaseUrl(platform, name) {
  if (platform.traefik_port) return `http://${name}.localhost:${platform.traefik_port}`;
  return `http://${await serveContainerIp(platform.instance, name)}`;
}

/** GET a path of a deployed site: {status, text}. */
export async function fetchSite(platform, name, p = "/") {
  const base = await siteBaseUrl(platform, name);
  const res = await fetch(base + p, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text() };
}
