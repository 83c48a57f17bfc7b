/* firewall.c: the instance's iptables rules that keep its networks off the host's services. */
#include "controller/firewall.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launchpad/buf.h"
#include "launchpad/clock.h"
#include "launchpad/crypto.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/lock.h"
#include "launchpad/log.h"
#include "launchpad/names.h"

#define COMPONENT "firewall"
#define FW_TABLE  "filter"
#define FW_HOOK   "INPUT"
/* The chain's name: a prefix LaunchPad owns, and the first 12 hex digits of the instance hash. */
#define FW_PREFIX     "LP-"
#define FW_HASH_CHARS 12
/* "launchpad:" and an instance (a DNS label of at most LP_NAMES_INSTANCE_MAX). */
#define FW_COMMENT_MAX (LP_NAMES_INSTANCE_MAX + 16)
#define FW_IFNAME_MAX  16 /* IFNAMSIZ */
/* Every iptables call: waiting for the xtables lock (-w) and the whole run. */
#define FW_LOCK_WAIT_S "5"
#define FW_RUN_MS      15000
/* What iptables prints for a chain or for INPUT (rules of every other tool included). */
#define FW_OUTPUT_MAX  ((size_t)4 << 20)
#define FW_ERRTEXT_MAX 512
#define FW_RULES_MAX   ((size_t)64 << 10) /* the restore input: a handful of lines */
#define FW_LINE_MAX    1024
/* Nameservers let through (resolv.conf allows 3; a few more cost nothing). */
#define FW_NAMESERVERS  8
#define FW_RESOLV_MAX   ((size_t)64 << 10)
#define FW_ADDR_TEXT    INET_ADDRSTRLEN
#define FW_ARGV_MAX     8
#define FW_READ_CHUNK   4096
#define FW_EXIT_MISSING 1 /* iptables -S of a chain that does not exist */

struct lp_firewall {
	char chain[LP_FIREWALL_CHAIN_MAX];
	char comment[FW_COMMENT_MAX];
	lp_lock lock;
	int64_t checked_ms; /* under lock; monotonic; 0: never */
};

int lp_firewall_new(lp_firewall **out, const char *instance, lp_error *err)
{
	char hex[LP_SHA256_HEX_LEN];
	lp_firewall *fw;

	*out = NULL;
	if ((fw = calloc(1, sizeof(*fw))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	lp_crypto_sha256_hex(hex, instance, strlen(instance));
	if (lp_fmt(fw->chain, sizeof(fw->chain), FW_PREFIX "%.*s", FW_HASH_CHARS, hex) != LP_OK ||
	    lp_fmt(fw->comment, sizeof(fw->comment), "launchpad:%s", instance) != LP_OK) {
		free(fw);
		return lp_error_set(err, LP_ETOOBIG, "instance %s is too long for a rule comment",
		                    instance);
	}
	lp_lock_init(&fw->lock);
	*out = fw;
	return LP_OK;
}

void lp_firewall_free(lp_firewall *fw)
{
	if (fw == NULL)
		return;
	lp_lock_destroy(&fw->lock);
	free(fw);
}

const char *lp_firewall_chain(const lp_firewall *fw)
{
	return fw->chain;
}

int lp_firewall_due(lp_firewall *fw)
{
	int due;

	lp_lock_acquire(&fw->lock);
	due = fw->checked_ms == 0 || lp_clock_mono_ms() - fw->checked_ms >= LP_FIREWALL_RECHECK_MS;
	lp_lock_release(&fw->lock);
	return due;
}

/* ---- running iptables ---------------------------------------------------------------------- */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* posix_spawnp, then the sbin directories a non-login PATH may lack. */
static int spawn(pid_t *out, const char *prog, char *const argv[],
                 const posix_spawn_file_actions_t *fa)
{
	static const char *const dirs[] = {"/usr/sbin", "/sbin"};
	extern char **environ;
	char path[FW_LINE_MAX];
	size_t i;
	int rc = posix_spawnp(out, prog, fa, NULL, argv, environ);

	for (i = 0; rc == ENOENT && i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (lp_fmt(path, sizeof(path), "%s/%s", dirs[i], prog) == LP_OK)
			rc = posix_spawn(out, path, fa, NULL, argv, environ);
	return rc;
}

/* Feed input (may be NULL), collect stdout into out and stderr into errtext until both close. */
static int pump(int in, int outfd, int errfd, const char *input, lp_buf *out, char *errtext,
                int64_t deadline)
{
	size_t left = input ? strlen(input) : 0, errlen = 0;
	char chunk[FW_READ_CHUNK];
	int overflow = 0;

	if (left == 0)
		close_fd(&in);
	while (outfd >= 0 || errfd >= 0) {
		struct pollfd pfd[3] = {{.fd = outfd, .events = POLLIN},
		                        {.fd = errfd, .events = POLLIN},
		                        {.fd = in, .events = POLLOUT}};
		int64_t wait = deadline - lp_clock_mono_ms();
		ssize_t n;

		if (wait <= 0 || poll(pfd, 3, (int)wait) < 0) {
			if (wait > 0 && errno == EINTR)
				continue;
			close_fd(&in);
			return LP_ETIMEOUT;
		}
		if (in >= 0 && (pfd[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = write(in, input, left);
			if (n > 0) {
				input += n;
				left -= (size_t)n;
			}
			if (n < 0 || left == 0)
				close_fd(&in);
		}
		if (outfd >= 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			if ((n = read(outfd, chunk, sizeof(chunk))) <= 0)
				close_fd(&outfd);
			else if (out && lp_buf_append(out, chunk, (size_t)n) != LP_OK)
				overflow = 1;
		}
		if (errfd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			if ((n = read(errfd, chunk, sizeof(chunk))) <= 0) {
				close_fd(&errfd);
			} else if (errlen + 1 < FW_ERRTEXT_MAX) {
				size_t take = (size_t)n < FW_ERRTEXT_MAX - 1 - errlen
				                  ? (size_t)n
				                  : FW_ERRTEXT_MAX - 1 - errlen;
				memcpy(errtext + errlen, chunk, take);
				errlen += take;
				errtext[errlen] = '\0';
			}
		}
	}
	close_fd(&in);
	return overflow ? LP_ETOOBIG : LP_OK;
}

/*
 * Run argv[0] with argv, input on its stdin (NULL: none), its stdout into out (may be NULL).
 * *out_status gets its exit status. LP_EUNAVAILABLE, with what it said on stderr, when it
 * cannot run, is killed at the deadline, or exits non-zero (except FW_EXIT_MISSING when
 * missing_ok: iptables' answer for a chain that is not there).
 */
static int run(int *out_status, lp_buf *out, char *const argv[], const char *input, int missing_ok,
               lp_error *err)
{
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1}, st = 0, rc, prc;
	char errtext[FW_ERRTEXT_MAX] = "";
	posix_spawn_file_actions_t fa;
	pid_t pid = -1;

	*out_status = -1;
	if (pipe2(pin, O_CLOEXEC) != 0 || pipe2(pout, O_CLOEXEC) != 0 ||
	    pipe2(perr, O_CLOEXEC) != 0) {
		rc = lp_error_set(err, LP_EIO, "pipe: %s", strerror(errno));
		goto done;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
	posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	prc = spawn(&pid, argv[0], argv, &fa);
	posix_spawn_file_actions_destroy(&fa);
	close_fd(&pin[0]);
	close_fd(&pout[1]);
	close_fd(&perr[1]);
	if (prc != 0) {
		rc =
		    lp_error_set(err, LP_EUNAVAILABLE, "cannot run %s: %s", argv[0], strerror(prc));
		goto done;
	}
	/* pump closes what it is handed; the pipes' ends are its from here on. */
	rc = pump(pin[1], pout[0], perr[0], input, out, errtext, lp_clock_mono_ms() + FW_RUN_MS);
	pin[1] = pout[0] = perr[0] = -1;
	if (rc == LP_ETIMEOUT)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	errtext[strcspn(errtext, "\n")] = '\0';
	if (rc == LP_ETIMEOUT)
		rc = lp_error_set(err, LP_EUNAVAILABLE, "%s did not finish in %d s", argv[0],
		                  FW_RUN_MS / 1000);
	else if (rc != LP_OK)
		rc =
		    lp_error_set(err, rc, "%s printed more than %zu bytes", argv[0], FW_OUTPUT_MAX);
	else if (!WIFEXITED(st))
		rc = lp_error_set(err, LP_EUNAVAILABLE, "%s was killed by signal %d", argv[0],
		                  WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	else
		*out_status = WEXITSTATUS(st);
	if (rc == LP_OK && *out_status != 0 && !(missing_ok && *out_status == FW_EXIT_MISSING))
		rc = lp_error_set(err, LP_EUNAVAILABLE, "%s exited with %d: %s", argv[0],
		                  *out_status, errtext[0] ? errtext : "(no message)");
done:
	close_fd(&pin[0]);
	close_fd(&pin[1]);
	close_fd(&pout[0]);
	close_fd(&pout[1]);
	close_fd(&perr[0]);
	close_fd(&perr[1]);
	return rc;
}

/* `iptables -S <chain>` into out; *out_exists 0 when there is no such chain. */
static int list_rules(int *out_exists, lp_buf *out, const char *chain, lp_error *err)
{
	char *argv[FW_ARGV_MAX] = {"iptables", "-w", FW_LOCK_WAIT_S, "-t",
	                           FW_TABLE,   "-S", (char *)chain,  NULL};
	int status = -1, rc;

	lp_buf_reset(out);
	rc = run(&status, out, argv, NULL, 1, err);
	*out_exists = rc == LP_OK && status == 0;
	return rc;
}

/* ---- the rules ------------------------------------------------------------------------------ */

/* IPv4 nameservers of the host's resolv.conf other than loopback (those stay in its namespace). */
static size_t nameservers(char out[][FW_ADDR_TEXT], size_t max)
{
	char *text = NULL, *line, *save = NULL, addr[FW_ADDR_TEXT];
	struct in_addr a;
	size_t n = 0;

	if (lp_fs_read_file(&text, NULL, "/etc/resolv.conf", FW_RESOLV_MAX, NULL) != LP_OK)
		return 0;
	for (line = strtok_r(text, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, " nameserver %15s", addr) != 1 ||
		    inet_pton(AF_INET, addr, &a) != 1 || (ntohl(a.s_addr) >> 24) == 127)
			continue;
		inet_ntop(AF_INET, &a, out[n++], FW_ADDR_TEXT);
	}
	free(text);
	return n;
}

/* The chain's rules exactly as `iptables -S` prints them. */
static int chain_rules(lp_buf *out, const lp_firewall *fw)
{
	char ns[FW_NAMESERVERS][FW_ADDR_TEXT];
	size_t n = nameservers(ns, FW_NAMESERVERS), i;
	int rc;

	rc = lp_buf_printf(out, "-A %s -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN\n",
	                   fw->chain);
	for (i = 0; i < n && rc == LP_OK; i++)
		rc = lp_buf_printf(out,
		                   "-A %s -d %s/32 -p udp -m udp --dport 53 -j RETURN\n"
		                   "-A %s -d %s/32 -p tcp -m tcp --dport 53 -j RETURN\n",
		                   fw->chain, ns[i], fw->chain, ns[i]);
	if (rc == LP_OK)
		rc = lp_buf_printf(out,
		                   "-A %s -p tcp -j REJECT --reject-with tcp-reset\n"
		                   "-A %s -j REJECT --reject-with icmp-port-unreachable\n",
		                   fw->chain, fw->chain);
	return rc;
}

/* The `-N chain` line, then its rules: what `iptables -S <chain>` prints, without the first. */
static int chain_matches(const lp_buf *live, const lp_buf *want, const char *chain)
{
	const char *s = lp_buf_cstr(live), *nl = strchr(s, '\n');
	char head[LP_FIREWALL_CHAIN_MAX + 8];

	if (lp_fmt(head, sizeof(head), "-N %s", chain) != LP_OK || nl == NULL ||
	    (size_t)(nl - s) != strlen(head) || strncmp(s, head, strlen(head)) != 0)
		return 0;
	return !strcmp(nl + 1, lp_buf_cstr(want));
}

/* The interface of an INPUT rule ("-i <name>"), into name/len; 0 when it names none. */
static int rule_iface(const char **name, size_t *len, const char *line, size_t linelen)
{
	const char *p = memmem(line, linelen, " -i ", 4), *end = line + linelen;

	if (p == NULL)
		return 0;
	*name = p += 4;
	*len = strcspn(p, " \n");
	if (p + *len > end)
		*len = (size_t)(end - p);
	return 1;
}

/* Whether a rule line jumps to chain (its last words are "-j <chain>"). */
static int jumps_to(const char *line, size_t len, const char *chain)
{
	size_t cl = strlen(chain);

	return len > cl + 4 && !memcmp(line + len - cl, chain, cl) &&
	       !memcmp(line + len - cl - 4, " -j ", 4);
}

/* Whether a rule line is any LaunchPad instance's jump (every instance's chain has the prefix). */
static int is_launchpad_jump(const char *line, size_t len)
{
	const char *j = NULL, *p = line, *end = line + len;

	while ((p = memmem(p, (size_t)(end - p), " -j ", 4)) != NULL)
		j = p += 4;
	return j != NULL && (size_t)(end - j) == strlen(FW_PREFIX) + FW_HASH_CHARS &&
	       !strncmp(j, FW_PREFIX, strlen(FW_PREFIX));
}

/* Whether a jump of ours (line) is the one of a wanted bridge not seen yet; marks it seen. */
static int claim(int have[], const char *line, size_t len, const char *const *bridges, size_t n)
{
	const char *ifn;
	size_t iflen, i;

	if (!rule_iface(&ifn, &iflen, line, len))
		return 0;
	for (i = 0; i < n; i++)
		if (!have[i] && strlen(bridges[i]) == iflen && !strncmp(bridges[i], ifn, iflen))
			return have[i] = 1;
	return 0;
}

/*
 * What to change in INPUT, as restore lines into plan: jumps of ours to bridges not wanted (or
 * twice) are deleted; a jump below a rule that is not a LaunchPad jump is deleted too and
 * inserted again at the top; wanted bridges without a jump get one there.
 */
static int plan_jumps(lp_buf *plan, const lp_buf *input, const lp_firewall *fw,
                      const char *const *bridges, size_t n)
{
	const char *line = lp_buf_cstr(input), *next;
	int have[LP_FIREWALL_BRIDGES] = {0}, foreign_above = 0, rc = LP_OK;
	size_t len, i;

	for (; *line && rc == LP_OK; line = next) {
		next = strchr(line, '\n');
		len = next ? (size_t)(next - line) : strlen(line);
		next = next ? next + 1 : line + len;
		if (strncmp(line, "-A " FW_HOOK " ", strlen("-A " FW_HOOK " ")) != 0)
			continue;
		if (!jumps_to(line, len, fw->chain))
			foreign_above |= !is_launchpad_jump(line, len);
		else if (foreign_above || !claim(have, line, len, bridges, n))
			rc = lp_buf_printf(plan, "-D%.*s\n", (int)(len - 2),
			                   line + 2); /* -A -> -D */
	}
	for (i = 0; i < n && rc == LP_OK; i++)
		if (!have[i])
			rc = lp_buf_printf(
			    plan, "-I " FW_HOOK " 1 -i %s -m comment --comment \"%s\" -j %s\n",
			    bridges[i], fw->comment, fw->chain);
	return rc;
}

static int restore(const char *rules, lp_error *err)
{
	char *argv[FW_ARGV_MAX] = {"iptables-restore", "-w", FW_LOCK_WAIT_S, "--noflush", NULL};
	int status = -1;

	return run(&status, NULL, argv, rules, 0, err);
}

static int check_bridges(const char *const *bridges, size_t n, lp_error *err)
{
	size_t i;

	if (n > LP_FIREWALL_BRIDGES)
		return lp_error_set(err, LP_EINVAL, "%zu bridges to isolate (at most %d)", n,
		                    LP_FIREWALL_BRIDGES);
	for (i = 0; i < n; i++)
		if (bridges[i] == NULL || bridges[i][0] == '\0' ||
		    strlen(bridges[i]) >= FW_IFNAME_MAX ||
		    strspn(bridges[i],
		           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		           "-_.") != strlen(bridges[i]))
			return lp_error_set(err, LP_EINVAL, "\"%s\" is not an interface name",
			                    bridges[i] ? bridges[i] : "");
	return LP_OK;
}

int lp_firewall_ensure(int *out, lp_firewall *fw, const char *const *bridges, size_t n,
                       lp_error *err)
{
	lp_buf live, want, plan;
	int exists = 0, rc;

	if (out)
		*out = 0;
	if ((rc = check_bridges(bridges, n, err)) != LP_OK)
		return rc;
	lp_buf_init(&live, FW_OUTPUT_MAX);
	lp_buf_init(&want, FW_RULES_MAX);
	lp_buf_init(&plan, FW_RULES_MAX);
	lp_lock_acquire(&fw->lock);
	if ((rc = chain_rules(&want, fw)) != LP_OK ||
	    (rc = lp_buf_puts(&plan, "*" FW_TABLE "\n")) != LP_OK) {
		lp_error_set(err, rc, "firewall rules too long");
		goto done;
	}
	if ((rc = list_rules(&exists, &live, fw->chain, err)) != LP_OK)
		goto done;
	/* ":<chain>" creates it, or empties it (--noflush spares every other chain). */
	if (!exists || !chain_matches(&live, &want, fw->chain))
		rc = lp_buf_printf(&plan, ":%s - [0:0]\n%s", fw->chain, lp_buf_cstr(&want));
	if (rc == LP_OK && (rc = list_rules(&exists, &live, FW_HOOK, err)) == LP_OK)
		rc = exists ? plan_jumps(&plan, &live, fw, bridges, n)
		            : lp_error_set(err, LP_EUNAVAILABLE,
		                           "iptables cannot read the %s chain", FW_HOOK);
	if (rc != LP_OK)
		goto done;
	if (plan.len > strlen("*" FW_TABLE "\n")) {
		if ((rc = lp_buf_puts(&plan, "COMMIT\n")) != LP_OK ||
		    (rc = restore(lp_buf_cstr(&plan), err)) != LP_OK)
			goto done;
		LP_INFO(COMPONENT, "isolated %zu network(s) from the host: chain %s", n, fw->chain);
		if (out)
			*out = 1;
	}
	fw->checked_ms = lp_clock_mono_ms();
done:
	lp_lock_release(&fw->lock);
	lp_buf_release(&live);
	lp_buf_release(&want);
	lp_buf_release(&plan);
	return rc;
}

int lp_firewall_remove(lp_firewall *fw, lp_error *err)
{
	lp_buf live, plan;
	int exists = 0, rc;

	lp_buf_init(&live, FW_OUTPUT_MAX);
	lp_buf_init(&plan, FW_RULES_MAX);
	lp_lock_acquire(&fw->lock);
	if ((rc = list_rules(&exists, &live, FW_HOOK, err)) != LP_OK ||
	    (rc = lp_buf_puts(&plan, "*" FW_TABLE "\n")) != LP_OK ||
	    (rc = plan_jumps(&plan, &live, fw, NULL, 0)) != LP_OK ||
	    (rc = list_rules(&exists, &live, fw->chain, err)) != LP_OK)
		goto done;
	/* Emptied, then deleted: a chain still referenced or holding rules cannot go. */
	if (exists)
		rc = lp_buf_printf(&plan, ":%s - [0:0]\n-X %s\n", fw->chain, fw->chain);
	if (rc == LP_OK && plan.len > strlen("*" FW_TABLE "\n") &&
	    (rc = lp_buf_puts(&plan, "COMMIT\n")) == LP_OK &&
	    (rc = restore(lp_buf_cstr(&plan), err)) == LP_OK)
		LP_INFO(COMPONENT, "removed chain %s and its jumps", fw->chain);
	fw->checked_ms = 0;
done:
	lp_lock_release(&fw->lock);
	lp_buf_release(&live);
	lp_buf_release(&plan);
	return rc;
}
