/* networks.c: the instance's networks, and their isolation from the host. */
#include "controller/networks.h"

#include <net/if.h>

#include "launchpad/log.h"
#include "launchpad/names.h"

#define COMPONENT "networks"

/* The apps network is made only once an app runs: an instance without apps has two networks. */
enum { NET_SITES, NET_BUILD, NET_APPS, NET_N };

static int names(char out[NET_N][LP_NAMES_MAX], const lp_config *cfg, lp_error *err)
{
	int rc = lp_names_sites_network(out[NET_SITES], LP_NAMES_MAX, cfg, err);

	if (rc == LP_OK)
		rc = lp_names_build_network(out[NET_BUILD], LP_NAMES_MAX, cfg->instance, err);
	return rc == LP_OK ? lp_names_apps_network(out[NET_APPS], LP_NAMES_MAX, cfg->instance, err)
	                   : rc;
}

/* The networks' bridges (the first n), each an interface of this network namespace, into the
 * firewall. */
static int isolate(const lp_parts *p, char nets[NET_N][LP_NAMES_MAX], int n, lp_error *err)
{
	lp_docker_network info[NET_N];
	const char *bridges[NET_N];
	int changed = 0, rc, i;

	for (i = 0; i < n; i++) {
		if ((rc = lp_docker_network_inspect(&info[i], lp_ctx_docker(p->ctx), nets[i],
		                                    err)) != LP_OK)
			return rc;
		if (info[i].bridge[0] == '\0')
			return lp_error_set(
			    err, LP_EUNSUPPORTED,
			    "network %s (driver %s) has no bridge interface to isolate "
			    "from the host",
			    nets[i], info[i].driver);
		/* Rules for an interface of another namespace would protect nothing. */
		if (if_nametoindex(info[i].bridge) == 0)
			return lp_error_set(
			    err, LP_EUNAVAILABLE,
			    "the bridge %s of network %s is not an interface of this network "
			    "namespace: isolating the networks from the host needs the controller "
			    "in the host's (compose: network_mode: host), or "
			    "--host-isolation=false",
			    info[i].bridge, nets[i]);
		bridges[i] = info[i].bridge;
	}
	if ((rc = lp_firewall_ensure(&changed, p->fw, bridges, (size_t)n, err)) != LP_OK)
		return lp_error_wrap(err, "isolating the networks from the host");
	if (changed)
		lp_ctx_count(p->ctx, LP_CTR_FIREWALL_WRITES, 1);
	return LP_OK;
}

int lp_networks_ensure(const lp_parts *p, lp_error *err)
{
	const lp_config *cfg = lp_ctx_cfg(p->ctx);
	lp_docker_kv label = {LP_LABEL_INSTANCE, (char *)cfg->instance};
	char nets[NET_N][LP_NAMES_MAX];
	lp_docker_network apps;
	int rc, n = NET_APPS;

	if (lp_ctx_networks_ok(p->ctx) && (!cfg->host_isolation || !lp_firewall_due(p->fw)))
		return LP_OK;
	if ((rc = names(nets, cfg, err)) != LP_OK)
		return rc;
	/* Once made, the apps network is isolated like the others. */
	rc = lp_docker_network_inspect(&apps, lp_ctx_docker(p->ctx), nets[NET_APPS], err);
	if (rc == LP_OK)
		n = NET_N;
	else if (rc != LP_ENOTFOUND)
		return rc;
	/* Sites need no egress: the serve network is internal, shared with Traefik. */
	if ((rc = lp_docker_network_ensure(NULL, lp_ctx_docker(p->ctx), nets[NET_SITES], 1, &label,
	                                   1, err)) != LP_OK ||
	    (rc = lp_docker_network_ensure(NULL, lp_ctx_docker(p->ctx), nets[NET_BUILD], 0, &label,
	                                   1, err)) != LP_OK)
		return rc;
	if (cfg->host_isolation && (rc = isolate(p, nets, n, err)) != LP_OK)
		return rc;
	lp_ctx_set_networks_ok(p->ctx, 1);
	return LP_OK;
}

int lp_networks_ensure_apps(const lp_parts *p, char *out, size_t outlen, lp_error *err)
{
	const lp_config *cfg = lp_ctx_cfg(p->ctx);
	lp_docker_kv label = {LP_LABEL_INSTANCE, (char *)cfg->instance};
	int created = 0, rc;

	if ((rc = lp_names_apps_network(out, outlen, cfg->instance, err)) != LP_OK ||
	    (rc = lp_docker_network_ensure(&created, lp_ctx_docker(p->ctx), out,
	                                   LP_DOCKER_NET_NO_ICC, &label, 1, err)) != LP_OK)
		return rc;
	if (created) { /* into the firewall before any app is on it */
		lp_ctx_set_networks_ok(p->ctx, 0);
		rc = lp_networks_ensure(p, err);
	}
	return rc;
}

int lp_networks_teardown(const lp_parts *p, lp_error *err)
{
	char nets[NET_N][LP_NAMES_MAX];
	lp_error ferr = {0};
	int rc, frc;

	if ((rc = names(nets, lp_ctx_cfg(p->ctx), err)) == LP_OK)
		rc = lp_docker_network_remove(lp_ctx_docker(p->ctx), nets[NET_BUILD], err);
	if (rc == LP_OK)
		rc = lp_docker_network_remove(lp_ctx_docker(p->ctx), nets[NET_APPS], err);
	lp_ctx_set_networks_ok(p->ctx, 0);
	/*
	 * Rules of a network that is gone protect nothing, and those of the sites network go too:
	 * nothing of the instance serves any more. They go even when the network would not.
	 */
	if ((frc = lp_firewall_remove(p->fw, &ferr)) != LP_OK && rc == LP_OK) {
		if (err)
			*err = ferr;
		rc = frc;
	}
	return rc;
}
