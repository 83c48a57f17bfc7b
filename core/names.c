/* names.c: instance-prefixed names of LaunchPad's networks and containers, and label filters. */
#include "launchpad/names.h"

#include <string.h>

#include "launchpad/fmt.h"

int lp_names_instance(char *out, size_t outlen, const char *instance, const char *base,
                      lp_error *err)
{
	int rc;

	if (outlen > 0)
		out[0] = '\0';
	if (base == NULL || *base == '\0' || instance == NULL || *instance == '\0')
		return lp_error_set(err, LP_EINVAL, "empty instance or object name");
	if (!strcmp(instance, LP_NAMES_DEFAULT_INSTANCE))
		rc = lp_fmt(out, outlen, "%s", base);
	else
		rc = lp_fmt(out, outlen, "%s-%s", instance, base);
	if (rc != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "name for %s in instance %s is too long", base,
		                    instance);
	return LP_OK;
}

int lp_names_sites_network(char *out, size_t outlen, const lp_config *cfg, lp_error *err)
{
	if (cfg->sites_network == NULL || cfg->sites_network[0] == '\0')
		return lp_names_instance(out, outlen, cfg->instance, LP_NAMES_SITES_NETWORK, err);
	if (lp_fmt(out, outlen, "%s", cfg->sites_network) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "sites network name is too long");
	return LP_OK;
}

int lp_names_build_network(char *out, size_t outlen, const char *instance, lp_error *err)
{
	return lp_names_instance(out, outlen, instance, LP_NAMES_BUILD_NETWORK, err);
}

int lp_names_apps_network(char *out, size_t outlen, const char *instance, lp_error *err)
{
	return lp_names_instance(out, outlen, instance, LP_NAMES_APPS_NETWORK, err);
}

int lp_names_serve_container(char *out, size_t outlen, const char *instance, const char *site,
                             lp_error *err)
{
	char base[LP_NAMES_MAX];

	if (lp_fmt(base, sizeof(base), "deploy-%s", site ? site : "") != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "site name too long");
	return lp_names_instance(out, outlen, instance, base, err);
}

int lp_names_build_container(char *out, size_t outlen, const char *instance, const char *site,
                             long revision, lp_error *err)
{
	char base[LP_NAMES_MAX];

	if (lp_fmt(base, sizeof(base), "build-%s-%ld", site ? site : "", revision) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "site name too long");
	return lp_names_instance(out, outlen, instance, base, err);
}

int lp_names_dns_label(const char *s, size_t max)
{
	size_t i, len = s ? strlen(s) : 0;

	if (len == 0 || len > max)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return s[0] != '-' && s[len - 1] != '-';
}

int lp_names_label_filter(char *out, size_t outlen, const char *key, const char *value)
{
	return lp_fmt(out, outlen, "%s=%s", key, value) == LP_OK ? LP_OK : LP_ETOOBIG;
}
