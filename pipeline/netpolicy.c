/* netpolicy.c: refused address ranges for Git fetches, and the admin's allow-list. */
#include "pipeline/netpolicy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "launchpad/fmt.h"

#define RANGE_TEXT_MAX 64 /* "ffff:...:ffff/128" with room */

/*
 * Not globally routable unicast (IANA's special-purpose registries): nothing a public Git host
 * has, everything an SSRF aims at. IPv6 prefixes that embed an IPv4 address are judged by it.
 */
static const char *const refused_v4[] = {
    "0.0.0.0/8",       /* "this network"; 0.0.0.0 reaches the local host */
    "10.0.0.0/8",      /* private (RFC 1918) */
    "100.64.0.0/10",   /* CGNAT shared space */
    "127.0.0.0/8",     /* loopback */
    "169.254.0.0/16",  /* link-local, cloud metadata endpoints */
    "172.16.0.0/12",   /* private (RFC 1918); Docker's default pools */
    "192.0.0.0/24",    /* IETF protocol assignments */
    "192.0.2.0/24",    /* documentation */
    "192.88.99.0/24",  /* 6to4 relay anycast (deprecated) */
    "192.168.0.0/16",  /* private (RFC 1918) */
    "198.18.0.0/15",   /* benchmarking */
    "198.51.100.0/24", /* documentation */
    "203.0.113.0/24",  /* documentation */
    "224.0.0.0/4",     /* multicast */
    "240.0.0.0/4",     /* reserved, and the broadcast address */
};
static const char *const refused_v6[] = {
    "::/96",         /* unspecified, and IPv4-compatible (deprecated) */
    "::1/128",       /* loopback */
    "100::/64",      /* discard */
    "2001::/23",     /* IETF protocol assignments (Teredo, ORCHID, ...) */
    "2001:db8::/32", /* documentation */
    "fc00::/7",      /* unique local (ULA) */
    "fe80::/10",     /* link-local */
    "fec0::/10",     /* site-local (deprecated) */
    "ff00::/8",      /* multicast */
};

static int in_range(const lp_net_range *r, int family, const uint8_t *addr)
{
	int full = r->prefix / 8, rest = r->prefix % 8;

	if (r->family != family || memcmp(r->addr, addr, (size_t)full) != 0)
		return 0;
	return rest == 0 || ((r->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

int lp_netpolicy_parse_range(lp_net_range *out, const char *text)
{
	char buf[RANGE_TEXT_MAX], *slash, *end;
	long prefix;
	int max;

	memset(out, 0, sizeof(*out));
	if (lp_fmt(buf, sizeof(buf), "%s", text) != LP_OK)
		return LP_EINVAL;
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return LP_EINVAL;
	}
	out->prefix = max;
	if (slash == NULL)
		return LP_OK;
	errno = 0;
	prefix = strtol(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end != '\0' || prefix < 0 || prefix > max)
		return LP_EINVAL;
	out->prefix = (int)prefix;
	return LP_OK;
}

void lp_netpolicy_init(lp_netpolicy *p)
{
	memset(p, 0, sizeof(*p));
}

static int add_range(lp_net_range *arr, size_t *n, size_t cap, const lp_net_range *r, lp_error *err)
{
	if (*n == cap)
		return lp_error_set(err, LP_ETOOBIG, "more than %zu address ranges", cap);
	arr[(*n)++] = *r;
	return LP_OK;
}

/* A host name as the allow-list may hold one: letters, digits, '-', '.', '_'. */
static int host_shaped(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= LP_NETPOLICY_HOST_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.' || s[i] == '_'))
			return 0;
	return 1;
}

int lp_netpolicy_allow_list(lp_netpolicy *p, const char *list, lp_error *err)
{
	const char *s = list ? list : "";
	char entry[LP_NETPOLICY_HOST_MAX];
	int rc;

	while (*s) {
		size_t len;
		lp_net_range r;

		s += strspn(s, ", ");
		len = strcspn(s, ", ");
		if (len == 0)
			break;
		if (len >= sizeof(entry))
			return lp_error_set(err, LP_EINVAL,
			                    "--git-allow-hosts: an entry is longer "
			                    "than %d bytes",
			                    LP_NETPOLICY_HOST_MAX - 1);
		memcpy(entry, s, len);
		entry[len] = '\0';
		s += len;
		if (lp_netpolicy_parse_range(&r, entry) == LP_OK) {
			if ((rc = add_range(p->allow, &p->nallow, LP_NETPOLICY_ALLOW_MAX, &r,
			                    err)) != LP_OK)
				return lp_error_wrap(err, "--git-allow-hosts");
			/* "127.0.0.1" is also the URL host of https://127.0.0.1/... */
			if (strchr(entry, '/') != NULL)
				continue;
		} else if (!host_shaped(entry, len)) {
			return lp_error_set(
			    err, LP_EINVAL,
			    "--git-allow-hosts: \"%s\" is not a host name, an IP address "
			    "or a CIDR range",
			    entry);
		}
		if (p->nallow_hosts == LP_NETPOLICY_ALLOW_MAX)
			return lp_error_set(err, LP_ETOOBIG,
			                    "--git-allow-hosts: more than %d entries",
			                    LP_NETPOLICY_ALLOW_MAX);
		memcpy(p->allow_hosts[p->nallow_hosts++], entry, len + 1);
	}
	return LP_OK;
}

int lp_netpolicy_deny_list(lp_netpolicy *p, const char *list, lp_error *err)
{
	const char *s = list ? list : "";
	char entry[RANGE_TEXT_MAX];

	while (*s) {
		size_t len;
		lp_net_range r;
		int rc;

		s += strspn(s, ", ");
		len = strcspn(s, ", ");
		if (len == 0)
			break;
		if (len >= sizeof(entry))
			return lp_error_set(err, LP_EINVAL, "refused range too long");
		memcpy(entry, s, len);
		entry[len] = '\0';
		s += len;
		if (lp_netpolicy_parse_range(&r, entry) != LP_OK)
			return lp_error_set(err, LP_EINVAL, "\"%s\" is not a CIDR range", entry);
		if ((rc = add_range(p->deny, &p->ndeny, LP_NETPOLICY_RANGES_MAX, &r, err)) != LP_OK)
			return rc;
	}
	return LP_OK;
}

int lp_netpolicy_deny_local(lp_netpolicy *p, lp_error *err)
{
	struct ifaddrs *ifs = NULL, *i;
	int rc = LP_OK;

	if (getifaddrs(&ifs) != 0)
		return lp_error_set(err, LP_EIO, "getifaddrs: %s", strerror(errno));
	for (i = ifs; i != NULL && rc == LP_OK; i = i->ifa_next) {
		lp_net_range r = {0};

		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			r.family = AF_INET;
			r.prefix = 32;
			memcpy(r.addr, &((const struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr,
			       4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			r.family = AF_INET6;
			r.prefix = 128;
			memcpy(r.addr,
			       &((const struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		rc = add_range(p->deny, &p->ndeny, LP_NETPOLICY_RANGES_MAX, &r, err);
	}
	freeifaddrs(ifs);
	return rc;
}

int lp_netpolicy_host_allowed(const lp_netpolicy *p, const char *host)
{
	size_t i, len = strlen(host);

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	for (i = 0; i < p->nallow_hosts; i++)
		if (strlen(p->allow_hosts[i]) == len && !strncasecmp(p->allow_hosts[i], host, len))
			return 1;
	return 0;
}

/* 1 when one of the ranges written as text holds the address. */
static int in_builtin(const char *const *texts, size_t n, int family, const uint8_t *addr)
{
	size_t i;

	for (i = 0; i < n; i++) {
		lp_net_range r;

		if (lp_netpolicy_parse_range(&r, texts[i]) == LP_OK && in_range(&r, family, addr))
			return 1;
	}
	return 0;
}

static int in_list(const lp_net_range *arr, size_t n, int family, const uint8_t *addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (in_range(&arr[i], family, addr))
			return 1;
	return 0;
}

static int v4_allowed(const lp_netpolicy *p, const uint8_t *a)
{
	if (in_list(p->allow, p->nallow, AF_INET, a))
		return 1;
	return !in_builtin(refused_v4, sizeof(refused_v4) / sizeof(refused_v4[0]), AF_INET, a) &&
	       !in_list(p->deny, p->ndeny, AF_INET, a);
}

/* The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4) into v4; 1 when there is one. */
static int embedded_v4(uint8_t v4[4], const uint8_t *a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};

	if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12)) {
		memcpy(v4, a + 12, 4);
		return 1;
	}
	if (a[0] == 0x20 && a[1] == 0x02) { /* 2002:AABB:CCDD::/48 */
		memcpy(v4, a + 2, 4);
		return 1;
	}
	return 0;
}

int lp_netpolicy_addr_allowed(const lp_netpolicy *p, const struct sockaddr *sa)
{
	const uint8_t *a;
	uint8_t v4[4];

	if (sa->sa_family == AF_INET)
		return v4_allowed(
		    p, (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family != AF_INET6)
		return 0;
	a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	if (in_list(p->allow, p->nallow, AF_INET6, a))
		return 1;
	if (in_builtin(refused_v6, sizeof(refused_v6) / sizeof(refused_v6[0]), AF_INET6, a) ||
	    in_list(p->deny, p->ndeny, AF_INET6, a))
		return 0;
	return embedded_v4(v4, a) ? v4_allowed(p, v4) : 1;
}
