/*
 * gitnet.h: the Git worker's sockets: every TCP connection libgit2 makes (http:// and, under its
 * TLS, https://, redirects included) goes through a stream registered here that resolves the host,
 * checks each address against a netpolicy, and connects to the address it checked, never
 * resolving again (so a DNS answer that changes between the check and the connect, rebinding,
 * gains nothing).
 *
 * Only for gitsrc.c's worker process, which is single-threaded and exits after one fetch: the
 * policy and the refusal are process state there, since libgit2's stream constructor takes no
 * context. lp_gitnet_install borrows the policy until the process ends.
 */
#ifndef LAUNCHPAD_PIPELINE_GITNET_H
#define LAUNCHPAD_PIPELINE_GITNET_H

#include <stddef.h>

#include "launchpad/error.h"
#include "pipeline/netpolicy.h"

/*
 * The one text of a refusal: the same whether or not anything listens at the address, and for
 * every port, so the error tells nothing of the network behind it.
 */
#define LP_GITNET_REFUSED                                                                          \
	"it resolves only to internal addresses (loopback, private, link-local, CGNAT, "           \
	"multicast, "                                                                              \
	"reserved, the Docker engine's networks or this host's own), which Git sources may not "   \
	"reach; an admin can allow the host with --git-allow-hosts"

/* Connecting to one address gives up after this long (the fetch's own deadline bounds it all). */
#define LP_GITNET_CONNECT_MS 15000

/* Register the checking stream with libgit2 (after git_libgit2_init). */
int lp_gitnet_install(const lp_netpolicy *policy, lp_error *err) LP_MUST_CHECK;

/* 1 when a connection was refused by the policy; out gets "git host \"H\" is refused: ...". */
int lp_gitnet_refused(char *out, size_t outlen);

#endif
