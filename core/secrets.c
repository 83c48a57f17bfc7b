/* secrets.c: the master key file and AES-256-GCM sealing (see launchpad/secrets.h). */
#include "launchpad/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launchpad/fmt.h"
#include "launchpad/fs.h"

#define KEY_BYTES   32
#define NONCE_BYTES 12
#define TAG_BYTES   16
#define SEAL_PREFIX "lpsec1:"
/* "key <id> <hex>\n" */
#define KEY_LINE_MAX 96

struct lp_keyring {
	char path[LP_FS_PATH_MAX];
	struct stat seen; /* the file as last read: a change means rotate-key ran */
	unsigned char fp_key[KEY_BYTES];
	int ids[LP_KEYRING_KEYS_MAX];
	unsigned char keys[LP_KEYRING_KEYS_MAX][KEY_BYTES];
	size_t nkeys; /* keys[nkeys - 1] is the newest (highest id) */
};

static int hex_bytes(unsigned char *out, size_t n, const char *hex)
{
	size_t i;

	if (strlen(hex) != 2 * n)
		return LP_EINVAL;
	for (i = 0; i < 2 * n; i++) {
		int c = hex[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return LP_EINVAL;
		out[i / 2] = (unsigned char)(i % 2 ? out[i / 2] | v : v << 4);
	}
	return LP_OK;
}

/* Parse the file's text into k (its keys replaced). */
static int parse(lp_keyring *k, char *text, lp_error *err)
{
	char *line, *save = NULL, hex[2 * KEY_BYTES + 2];
	int have_fp = 0, id, last = 0, lineno = 0;

	k->nkeys = 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (sscanf(line, "fingerprint %65s", hex) == 1 && !have_fp &&
		    hex_bytes(k->fp_key, KEY_BYTES, hex) == LP_OK) {
			have_fp = 1;
			continue;
		}
		if (sscanf(line, "key %9d %65s", &id, hex) == 2 && id > last &&
		    k->nkeys < LP_KEYRING_KEYS_MAX &&
		    hex_bytes(k->keys[k->nkeys], KEY_BYTES, hex) == LP_OK) {
			k->ids[k->nkeys++] = last = id;
			continue;
		}
		OPENSSL_cleanse(hex, sizeof(hex));
		return lp_error_set(
		    err, LP_EINVAL,
		    "master key file %s, line %d: expected \"fingerprint <64 hex>\" "
		    "or \"key <id> <64 hex>\" (ids rising, at most %d keys)",
		    k->path, lineno, LP_KEYRING_KEYS_MAX);
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	if (!have_fp || k->nkeys == 0)
		return lp_error_set(err, LP_EINVAL,
		                    "master key file %s has no fingerprint or no key", k->path);
	return LP_OK;
}

/* The file's text for k (the caller wipes and frees it). */
static int format(char **out, const lp_keyring *k, lp_error *err)
{
	size_t cap = 128 + (k->nkeys + 1) * KEY_LINE_MAX, used, i;
	char hex[2 * KEY_BYTES + 1], *text = malloc(cap);

	*out = NULL;
	if (text == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	lp_crypto_hex_encode(hex, k->fp_key, KEY_BYTES);
	if (lp_fmt(
	        text, cap,
	        "# LaunchPad master key: secret env values are sealed with it. Mode 0600; back it\n"
	        "# up with the data dir (without it sealed values cannot be opened).\n"
	        "fingerprint %s\n",
	        hex) != LP_OK)
		goto toolong;
	for (i = 0; i < k->nkeys; i++) {
		used = strlen(text);
		lp_crypto_hex_encode(hex, k->keys[i], KEY_BYTES);
		if (lp_fmt(text + used, cap - used, "key %d %s\n", k->ids[i], hex) != LP_OK)
			goto toolong;
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	*out = text;
	return LP_OK;
toolong:
	OPENSSL_cleanse(hex, sizeof(hex));
	OPENSSL_cleanse(text, cap);
	free(text);
	return lp_error_set(err, LP_ERROR, "master key text does not fit");
}

/* Check the file's mode and read it into k. */
static int read_file(lp_keyring *k, lp_error *err)
{
	struct stat sb;
	char *text = NULL;
	size_t len = 0;
	int fd, rc;

	if ((fd = open(k->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return lp_error_set(err, errno == ENOENT ? LP_ENOTFOUND : LP_EIO,
		                    "master key file %s: %s", k->path, strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return lp_error_set(err, LP_EUNSAFE, "master key file %s is not a regular file",
		                    k->path);
	}
	if (sb.st_mode & 077) {
		close(fd);
		return lp_error_set(err, LP_EUNSAFE,
		                    "master key file %s has mode %04o: it must be readable by its "
		                    "owner only (chmod 600 %s)",
		                    k->path, (unsigned)(sb.st_mode & 07777), k->path);
	}
	rc = lp_fs_read_fd(&text, &len, fd, LP_KEYFILE_MAX, err);
	close(fd);
	if (rc == LP_OK)
		rc = parse(k, text, err);
	if (text) {
		OPENSSL_cleanse(text, len);
		free(text);
	}
	if (rc == LP_OK)
		k->seen = sb;
	return rc;
}

/* A new file at k->path unless one is there already (then it stays: another daemon made it). */
static int create_file(lp_keyring *k, lp_error *err)
{
	char tmp[LP_FS_PATH_MAX], *text = NULL;
	int fd = -1, rc;
	size_t len;

	if (RAND_bytes(k->fp_key, KEY_BYTES) != 1 || RAND_bytes(k->keys[0], KEY_BYTES) != 1)
		return lp_error_set(err, LP_ERROR, "no random bytes for a master key");
	k->ids[0] = 1;
	k->nkeys = 1;
	if (lp_fmt(tmp, sizeof(tmp), "%s.new-%d", k->path, (int)getpid()) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "master key path too long: %s", k->path);
	if ((rc = format(&text, k, err)) != LP_OK)
		return rc;
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		rc = lp_error_set(err, LP_EIO, "writing master key file %s: %s", tmp,
		                  strerror(errno));
		goto done;
	}
	/* link(2) never replaces: of two daemons starting at once, one file wins */
	if (link(tmp, k->path) != 0 && errno != EEXIST)
		rc = lp_error_set(err, LP_EIO, "creating master key file %s: %s", k->path,
		                  strerror(errno));
done:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

int lp_keyring_load(lp_keyring **out, const char *path, int create, lp_error *err)
{
	lp_keyring *k = calloc(1, sizeof(*k));
	int rc;

	*out = NULL;
	if (k == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	if (lp_fmt(k->path, sizeof(k->path), "%s", path) != LP_OK) {
		free(k);
		return lp_error_set(err, LP_ETOOBIG, "master key path too long: %s", path);
	}
	rc = read_file(k, err);
	if (rc == LP_ENOTFOUND && create && (rc = create_file(k, err)) == LP_OK)
		rc = read_file(k, err);
	if (rc != LP_OK) {
		lp_keyring_free(k);
		return rc;
	}
	*out = k;
	return LP_OK;
}

void lp_keyring_free(lp_keyring *k)
{
	if (k == NULL)
		return;
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

/* Re-read the file when it changed since it was read (rotate-key ran meanwhile). */
static int refresh(lp_keyring *k, lp_error *err)
{
	struct stat sb;
	lp_keyring fresh;
	int rc;

	if (stat(k->path, &sb) != 0)
		return lp_error_set(err, LP_EIO, "master key file %s: %s", k->path,
		                    strerror(errno));
	if (sb.st_ino == k->seen.st_ino && sb.st_size == k->seen.st_size &&
	    sb.st_mtim.tv_sec == k->seen.st_mtim.tv_sec &&
	    sb.st_mtim.tv_nsec == k->seen.st_mtim.tv_nsec)
		return LP_OK;
	memset(&fresh, 0, sizeof(fresh));
	memcpy(fresh.path, k->path, sizeof(fresh.path));
	if ((rc = read_file(&fresh, err)) == LP_OK)
		*k = fresh;
	OPENSSL_cleanse(&fresh, sizeof(fresh));
	return rc;
}

int lp_keyring_current(const lp_keyring *k)
{
	return k->ids[k->nkeys - 1];
}

int lp_keyring_sealed_key(const char *sealed)
{
	int id = 0, used = 0;

	if (sealed == NULL || sscanf(sealed, SEAL_PREFIX "%9d:%n", &id, &used) != 1 || used == 0)
		return 0;
	return id > 0 ? id : 0;
}

static const unsigned char *key_of(const lp_keyring *k, int id)
{
	size_t i;

	for (i = 0; i < k->nkeys; i++)
		if (k->ids[i] == id)
			return k->keys[i];
	return NULL;
}

int lp_keyring_seal(char **out, lp_keyring *k, const char *aad, const char *plain, lp_error *err)
{
	size_t plen = strlen(plain), rawlen = NONCE_BYTES + plen + TAG_BYTES;
	unsigned char *raw = malloc(rawlen);
	char *text = NULL, head[32];
	EVP_CIPHER_CTX *c = NULL;
	int rc, n = 0, fin = 0;
	size_t b64len = 4 * ((rawlen + 2) / 3) + 1;

	*out = NULL;
	if (raw == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	if ((rc = refresh(k, err)) != LP_OK)
		goto done;
	rc = LP_ERROR;
	if (RAND_bytes(raw, NONCE_BYTES) != 1 || (c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) != 1 ||
	    EVP_EncryptInit_ex(c, NULL, NULL, k->keys[k->nkeys - 1], raw) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
	    EVP_EncryptUpdate(c, raw + NONCE_BYTES, &n, (const unsigned char *)plain, (int)plen) !=
	        1 ||
	    EVP_EncryptFinal_ex(c, raw + NONCE_BYTES + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, raw + NONCE_BYTES + plen) != 1)
		goto done;
	if (lp_fmt(head, sizeof(head), SEAL_PREFIX "%d:", lp_keyring_current(k)) != LP_OK ||
	    (text = malloc(strlen(head) + b64len)) == NULL)
		goto done;
	memcpy(text, head, strlen(head));
	EVP_EncodeBlock((unsigned char *)text + strlen(head), raw, (int)rawlen);
	*out = text;
	text = NULL;
	rc = LP_OK;
done:
	if (rc == LP_ERROR)
		lp_error_set(err, LP_ERROR, "sealing a secret failed (OpenSSL)");
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(raw, rawlen);
	free(raw);
	free(text);
	return rc;
}

int lp_keyring_open(char **out, lp_keyring *k, const char *aad, const char *sealed, lp_error *err)
{
	int id = lp_keyring_sealed_key(sealed), n = 0, fin = 0, rc;
	const unsigned char *key;
	const char *b64;
	unsigned char *raw = NULL;
	char *plain = NULL;
	size_t b64len, rawcap;
	int rawlen, pad = 0;
	EVP_CIPHER_CTX *c = NULL;

	*out = NULL;
	if (id == 0 || (b64 = strchr(sealed + strlen(SEAL_PREFIX), ':')) == NULL)
		return lp_error_set(err, LP_EINVAL, "not a sealed secret");
	b64++;
	b64len = strlen(b64);
	if (b64len == 0 || b64len % 4 != 0 || b64len > LP_KEYFILE_MAX * 4)
		return lp_error_set(err, LP_EINVAL, "not a sealed secret");
	if ((rc = refresh(k, err)) != LP_OK)
		return rc;
	if ((key = key_of(k, id)) == NULL)
		return lp_error_set(err, LP_ENOTFOUND,
		                    "a secret is sealed with key %d, which the master key file no "
		                    "longer has",
		                    id);
	rawcap = b64len / 4 * 3;
	pad = (b64[b64len - 1] == '=') + (b64[b64len - 2] == '=');
	if ((raw = malloc(rawcap + 1)) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	rawlen = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)b64len);
	rc = LP_EINVAL;
	if (rawlen < 0 || (rawlen -= pad) < NONCE_BYTES + TAG_BYTES)
		goto done;
	if ((plain = malloc((size_t)rawlen - NONCE_BYTES - TAG_BYTES + 1)) == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto done;
	}
	rc = LP_EAUTH;
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) != 1 ||
	    EVP_DecryptInit_ex(c, NULL, NULL, key, raw) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
	    EVP_DecryptUpdate(c, (unsigned char *)plain, &n, raw + NONCE_BYTES,
	                      rawlen - NONCE_BYTES - TAG_BYTES) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, raw + rawlen - TAG_BYTES) !=
	        1 ||
	    EVP_DecryptFinal_ex(c, (unsigned char *)plain + n, &fin) != 1)
		goto done;
	plain[n + fin] = '\0';
	if (strlen(plain) != (size_t)(n + fin)) /* a NUL inside: never sealed by us */
		goto done;
	*out = plain;
	plain = NULL;
	rc = LP_OK;
done:
	if (rc == LP_EINVAL)
		lp_error_set(err, rc, "not a sealed secret");
	else if (rc == LP_EAUTH)
		lp_error_set(err, rc, "a sealed secret does not open (tampered, or another's)");
	EVP_CIPHER_CTX_free(c);
	if (plain) {
		OPENSSL_cleanse(plain, (size_t)rawlen - NONCE_BYTES - TAG_BYTES + 1);
		free(plain);
	}
	OPENSSL_cleanse(raw, rawcap + 1);
	free(raw);
	return rc;
}

int lp_keyring_fingerprint(char out[LP_SHA256_HEX_LEN], lp_keyring *k, const char *aad,
                           const char *value)
{
	size_t alen = strlen(aad), vlen = strlen(value);
	char *msg = malloc(alen + vlen + 2);
	int rc;

	if (msg == NULL)
		return LP_ENOMEM;
	memcpy(msg, aad, alen);
	msg[alen] = '\n';
	memcpy(msg + alen + 1, value, vlen + 1);
	rc = refresh(k, NULL);
	if (rc == LP_OK)
		rc = lp_crypto_hmac_sha256_hex(out, k->fp_key, KEY_BYTES, msg, alen + vlen + 1);
	OPENSSL_cleanse(msg, alen + vlen + 2);
	free(msg);
	return rc;
}

static int rewrite(lp_keyring *k, lp_error *err)
{
	char *text = NULL;
	int rc = format(&text, k, err);

	if (rc == LP_OK)
		rc = lp_fs_write_atomic(k->path, text, strlen(text), 0600, err);
	if (text) {
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
	if (rc == LP_OK && stat(k->path, &k->seen) != 0)
		memset(&k->seen, 0, sizeof(k->seen));
	return rc;
}

int lp_keyring_add_key(lp_keyring *k, lp_error *err)
{
	int rc;

	if ((rc = refresh(k, err)) != LP_OK)
		return rc;
	if (k->nkeys == LP_KEYRING_KEYS_MAX)
		return lp_error_set(err, LP_ETOOBIG, "the master key file has %d keys already",
		                    LP_KEYRING_KEYS_MAX);
	if (RAND_bytes(k->keys[k->nkeys], KEY_BYTES) != 1)
		return lp_error_set(err, LP_ERROR, "no random bytes for a master key");
	k->ids[k->nkeys] = lp_keyring_current(k) + 1;
	k->nkeys++;
	return rewrite(k, err);
}

int lp_keyring_retire_old(lp_keyring *k, lp_error *err)
{
	int rc;

	if ((rc = refresh(k, err)) != LP_OK)
		return rc;
	if (k->nkeys > 1) {
		k->ids[0] = k->ids[k->nkeys - 1];
		memcpy(k->keys[0], k->keys[k->nkeys - 1], KEY_BYTES);
		OPENSSL_cleanse(k->keys[1], (k->nkeys - 1) * KEY_BYTES);
		k->nkeys = 1;
	}
	return rewrite(k, err);
}

int lp_keyring_path(char *out, size_t outlen, const char *file, const char *data_dir)
{
	if (file && *file)
		return lp_fmt(out, outlen, "%s", file);
	return lp_fmt(out, outlen, "%s/master.key", data_dir);
}

int lp_keyring_aad(char *out, size_t outlen, const char *site_id, const char *name)
{
	return lp_fmt(out, outlen, "%s/%s", site_id, name);
}
