/* slug.c: adjective-noun slugs for new sites, and the DNS-label rule every slug obeys. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/crypto.h"
#include "launchpad/fmt.h"

static const char *const adjectives[] = {
    "agile",    "amber",   "ancient", "autumn", "bold",    "brave",     "bright", "calm",
    "clever",   "cool",    "cosmic",  "crisp",  "curious", "daring",    "dawn",   "eager",
    "electric", "emerald", "fancy",   "fierce", "gentle",  "gifted",    "glad",   "golden",
    "graceful", "green",   "happy",   "hidden", "honest",  "humble",    "icy",    "jolly",
    "keen",     "kind",    "lively",  "lucky",  "lunar",   "mellow",    "merry",  "misty",
    "modest",   "noble",   "polite",  "proud",  "quick",   "quiet",     "rapid",  "royal",
    "rustic",   "serene",  "shiny",   "silent", "silver",  "sleek",     "snowy",  "solar",
    "steady",   "sunny",   "swift",   "tidy",   "vivid",   "wandering", "witty",  "young",
};

static const char *const nouns[] = {
    "badger", "bear",   "beacon", "breeze",  "brook",  "canyon", "cedar",  "cloud",
    "comet",  "coral",  "crane",  "creek",   "dawn",   "delta",  "dune",   "eagle",
    "ember",  "falcon", "fern",   "field",   "finch",  "fjord",  "forest", "fox",
    "glade",  "grove",  "harbor", "hawk",    "heron",  "hill",   "island", "lake",
    "lark",   "leaf",   "lynx",   "maple",   "meadow", "moon",   "moss",   "oak",
    "ocean",  "otter",  "owl",    "panda",   "peak",   "pine",   "pond",   "prairie",
    "rain",   "raven",  "reef",   "river",   "robin",  "sky",    "spark",  "star",
    "stone",  "storm",  "sun",    "thunder", "tiger",  "valley", "wave",   "wolf",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define U32_HEX_LEN (2 * sizeof(uint32_t) + 1)

static unsigned random_u32(void)
{
	char hex[U32_HEX_LEN];
	unsigned v = 0;

	if (lp_crypto_random_hex(hex, sizeof(uint32_t)) == LP_OK)
		sscanf(hex, "%8x", &v);
	return v;
}

int api_slug_generate(char out[API_SLUG_MAX], unsigned attempt)
{
	unsigned a = random_u32(), n = random_u32();
	const char *adj = adjectives[a % NELEM(adjectives)];
	const char *noun = nouns[n % NELEM(nouns)];

	if (attempt < API_SLUG_PLAIN_TRIES)
		return lp_fmt(out, API_SLUG_MAX, "%s-%s", adj, noun);
	return lp_fmt(out, API_SLUG_MAX, "%s-%s-%04x", adj, noun, random_u32() & 0xffff);
}

int api_slug_valid(const char *s)
{
	size_t i, n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}
