/** What Docker says about the platform's containers, and how a test reaches a site. */
import http from "node:http";

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
 * Traefik in the test platform yet). Once lp_platform reports Traefik (site_url_template such as
 * "http://{name}.localhost:PORT", or traefik_port), it is `http://<name>.localhost:<port>/`
 * through Traefik: this is the one function to change. Returns where to connect and the Host.
 */
export async function siteTarget(platform, name) {
  const viaTraefik = platform.site_url_template
    ? platform.site_url_template.replace(/\{name\}|%s/g, name)
    : platform.traefik_port
      ? `http://${name}.localhost:${platform.traefik_port}`
      : null;
  if (viaTraefik) {
    const u = new URL(viaTraefik);
    // *.localhost is loopback (RFC 6761) whatever the resolver says: connect there, send the Host
    return { origin: `${u.protocol}//127.0.0.1:${u.port || 80}`, host: u.host };
  }
  const ip = await serveContainerIp(platform.instance, name);
  return { origin: `http://${ip}`, host: ip };
}

/** GET a path of a deployed site: {status, text}. */
export async function fetchSite(platform, name, p = "/") {
  const t = await siteTarget(platform, name);
  const u = new URL(p, t.origin);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: u.hostname, port: u.port || 80, path: u.pathname + u.search, headers: { Host: t.host }, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: body }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${u.href}: timed out`)));
    req.on("error", reject);
  });
}
