/*
 * rules.h: internal: value rules; each returns 1 when valid, else 0 with a message in msg (n bytes;
 * LP_SPEC_DIAG_MESSAGE_MAX fits every message, a smaller buffer gets it cut).
 */
#ifndef LAUNCHPAD_SPEC_RULES_H
#define LAUNCHPAD_SPEC_RULES_H

#include <stddef.h>

int lp_rule_name(const char *s, char *msg, size_t n);
int lp_rule_git_url(const char *s, int allow_insecure, char *msg, size_t n);
int lp_rule_branch(const char *s, char *msg, size_t n);
int lp_rule_digest(const char *s, char *msg, size_t n);
/* want_file: the path must name a file (no trailing '/', not "."). */
int lp_rule_relpath(const char *s, int want_file, char *msg, size_t n);
int lp_rule_image(const char *s, char *msg, size_t n);
/* A custom domain: lowercase DNS name of 2+ labels; "*." first only with allow_wildcard. */
int lp_rule_domain(const char *s, int allow_wildcard, char *msg, size_t n);
int lp_rule_env_name(const char *s, size_t len, char *msg, size_t n);
/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
int lp_rule_utf8(const char *s, size_t len);

#endif
