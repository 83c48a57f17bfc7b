/*
 * firewall.h: host isolation. A container's packet addressed to one of the host's own addresses
 * (its network's gateway, docker0's, the LAN's: any of them) is delivered to the host's INPUT
 * chain, where every service listening on 0.0.0.0 would take it. For the instance's networks,
 * known by their bridge interfaces, a chain of the instance rejects such packets (TCP with a
 * reset, anything else with ICMP port-unreachable, so a build fails fast instead of hanging).
 * Let through: replies to connections the host opened (the controller's probe of a serve
 * container) and DNS to the nameservers of the host's resolv.conf, which the engine's embedded
 * resolver asks from the container's own namespace. Forwarded traffic (a build's egress to the
 * internet) never enters INPUT and is untouched, as is every bridge that is not the instance's:
 *
 *   -I INPUT -i <bridge> -m comment --comment "launchpad:<instance>" -j LP-<12 hex>  (each bridge)
 *   -A LP-<12 hex> -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN
 *   -A LP-<12 hex> -d <nameserver>/32 -p udp -m udp --dport 53 -j RETURN            (and tcp)
 *   -A LP-<12 hex> -p tcp -j REJECT --reject-with tcp-reset
 *   -A LP-<12 hex> -j REJECT --reject-with icmp-port-unreachable
 *
 * The chain is named by the instance's SHA-256 (iptables allows 28 characters; instances have
 * 32). The live rules are read with `iptables -S` and written, only where they differ, by one
 * `iptables-restore --noflush` (atomic). The instance's jumps must come before every INPUT rule
 * that is not a LaunchPad jump (an ACCEPT above them would let traffic through); otherwise they
 * are moved to the top. Both programs run with a deadline, as found on PATH or in /usr/sbin,
 * /sbin.
 *
 * Thread-safe (its own lock). The caller owns the handle from lp_firewall_new and frees it with
 * lp_firewall_free (NULL is a no-op); nothing else outlives a call.
 */
#ifndef LAUNCHPAD_CONTROLLER_FIREWALL_H
#define LAUNCHPAD_CONTROLLER_FIREWALL_H

#include <stddef.h>

#include "launchpad/error.h"

/* How often the live rules are read again (a firewall reload, an admin's flush). */
#define LP_FIREWALL_RECHECK_MS 60000
#define LP_FIREWALL_CHAIN_MAX  29 /* "LP-" + 12 hex + NUL fits; iptables' own limit */
#define LP_FIREWALL_BRIDGES    8  /* bridges of one instance (it has two networks) */

typedef struct lp_firewall lp_firewall;

int lp_firewall_new(lp_firewall **out, const char *instance, lp_error *err) LP_MUST_CHECK;
void lp_firewall_free(lp_firewall *fw);

/* The instance's chain ("LP-" and 12 hex digits). */
const char *lp_firewall_chain(const lp_firewall *fw);

/* 1 when the rules were never ensured, or not for LP_FIREWALL_RECHECK_MS. */
int lp_firewall_due(lp_firewall *fw);

/*
 * Make the live rules isolate exactly these bridges of the instance (jumps for others of its are
 * removed). *out (may be NULL) is 1 when anything was written. LP_EUNAVAILABLE when iptables
 * cannot be run or refuses (not root, no iptables), with its message.
 */
int lp_firewall_ensure(int *out, lp_firewall *fw, const char *const *bridges, size_t n,
                       lp_error *err) LP_MUST_CHECK;

/* Remove the instance's jumps and its chain (teardown). None there is success. */
int lp_firewall_remove(lp_firewall *fw, lp_error *err) LP_MUST_CHECK;

#endif
