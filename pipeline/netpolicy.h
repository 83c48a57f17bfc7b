/*
 * netpolicy.h: which addresses the controller's Git fetches may connect to (SSRF).
 *
 * A host of a site's Git URL is the user's to choose; without a check a URL could reach the
 * controller's own services (loopback), the engine's socket over TCP, the LAN, the cloud's metadata
 * endpoint, or containers on the engine's networks. The policy refuses every address that is not
 * globally routable unicast: loopback, "this network", private (RFC 1918, ULA), CGNAT, link-local,
 * multicast, reserved and documentation ranges, IPv4 addresses embedded in IPv6 (mapped, NAT64,
 * 6to4) that would be refused themselves, plus ranges the caller adds (the engine's networks, this
 * host's own addresses). An admin allow-list exempts host names (exact, case-insensitive) and
 * address ranges.
 *
 * A policy is a plain value owned by the caller (no heap); the functions only read it, so any
 * thread may use one policy at once with others. The URL host is checked by name first
 * (lp_netpolicy_host_allowed), then every address it resolves to (lp_netpolicy_addr_allowed); the
 * caller connects only to an address that passed, the one it resolved, never resolving again.
 */
#ifndef LAUNCHPAD_PIPELINE_NETPOLICY_H
#define LAUNCHPAD_PIPELINE_NETPOLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "launchpad/error.h"

#define LP_NETPOLICY_RANGES_MAX 1100 /* refused ranges added: the engine's subnets, own addrs */
#define LP_NETPOLICY_ALLOW_MAX  64   /* entries of the allow-list */
#define LP_NETPOLICY_HOST_MAX   256  /* a host name of the allow-list, NUL included */

typedef struct lp_net_range {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order; IPv4 in the first 4 bytes */
	int prefix;       /* bits */
} lp_net_range;

typedef struct lp_netpolicy {
	lp_net_range deny[LP_NETPOLICY_RANGES_MAX]; /* refused besides the built-in ranges */
	size_t ndeny;
	lp_net_range allow[LP_NETPOLICY_ALLOW_MAX]; /* exempt, whatever else says */
	size_t nallow;
	char allow_hosts[LP_NETPOLICY_ALLOW_MAX][LP_NETPOLICY_HOST_MAX];
	size_t nallow_hosts;
} lp_netpolicy;

void lp_netpolicy_init(lp_netpolicy *p);

/* "10.0.0.0/8", "fd00::/8", "127.0.0.1" (a /32), "::1" (a /128). LP_EINVAL otherwise. */
int lp_netpolicy_parse_range(lp_net_range *out, const char *text) LP_MUST_CHECK;

/*
 * The admin allow-list (--git-allow-hosts): comma- or space-separated host names, IP addresses
 * and CIDR ranges. LP_EINVAL names an entry that is none of them; LP_ETOOBIG past the caps.
 */
int lp_netpolicy_allow_list(lp_netpolicy *p, const char *list, lp_error *err) LP_MUST_CHECK;

/* Refuse a comma-separated list of CIDR ranges too (the engine's networks). */
int lp_netpolicy_deny_list(lp_netpolicy *p, const char *list, lp_error *err) LP_MUST_CHECK;

/* Refuse this host's own interface addresses too (getifaddrs): its services listen there. */
int lp_netpolicy_deny_local(lp_netpolicy *p, lp_error *err) LP_MUST_CHECK;

/* 1 when the allow-list names host (brackets of an IPv6 literal ignored). */
int lp_netpolicy_host_allowed(const lp_netpolicy *p, const char *host);

/* 1 when a connection to sa (AF_INET or AF_INET6) may be made; any other family: 0. */
int lp_netpolicy_addr_allowed(const lp_netpolicy *p, const struct sockaddr *sa);

#endif
