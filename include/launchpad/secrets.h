/*
 * secrets.h: the master key file and sealed secrets (AES-256-GCM, OpenSSL EVP).
 *
 * The key file (LAUNCHPAD_MASTER_KEY_FILE, default <data-dir>/master.key) is text, mode 0600:
 *   fingerprint <64 hex>      a key for fingerprints (HMAC-SHA256), never rotated
 *   key <id> <64 hex>         AES-256 keys; the highest id seals, every listed one opens
 * It is made on first use when absent (O_EXCL and link(2): two daemons starting at once agree on
 * one file) and refused when anyone but its owner may read or write it. There is no built-in
 * key: without the file nothing is sealed or opened.
 *
 * A sealed value is "lpsec1:<key id>:<base64 of nonce(12) | ciphertext | tag(16)>", a fresh
 * random nonce each time; the associated data binds it to "<site id>/<name>", so a sealed value
 * copied to another site or variable does not open.
 *
 * The keyring re-reads its file when the file changed (rotate-key while the daemons run). Strings
 * returned through **out are the caller's to free (a clear value: wipe it first). One keyring
 * per thread, or a lock around it.
 */
#ifndef LAUNCHPAD_SECRETS_H
#define LAUNCHPAD_SECRETS_H

#include <stddef.h>

#include "launchpad/crypto.h"
#include "launchpad/error.h"

#define LP_KEYRING_KEYS_MAX 16   /* keys a file may list */
#define LP_KEYFILE_MAX      4096 /* bytes of a key file */

typedef struct lp_keyring lp_keyring;

/*
 * Load path (made when absent and create is set). LP_EUNSAFE when the file is readable or
 * writable by group or others, or not a regular file; LP_ENOTFOUND when absent and not create;
 * LP_EINVAL for a malformed file.
 */
int lp_keyring_load(lp_keyring **out, const char *path, int create, lp_error *err) LP_MUST_CHECK;
void lp_keyring_free(lp_keyring *k);

/* The key file's path: file when set, else <data_dir>/master.key. */
int lp_keyring_path(char *out, size_t outlen, const char *file, const char *data_dir) LP_MUST_CHECK;
/* The associated data of variable name of site site_id: "<site id>/<name>". */
int lp_keyring_aad(char *out, size_t outlen, const char *site_id, const char *name) LP_MUST_CHECK;
#define LP_KEYRING_AAD_MAX 512
/* The name a site's Git credential is sealed under ("<site id>/git-credential"). */
#define LP_GIT_CREDENTIAL_AAD "git-credential"

/* Seal plain for aad with the newest key: *out is the sealed text. */
int lp_keyring_seal(char **out, lp_keyring *k, const char *aad, const char *plain,
                    lp_error *err) LP_MUST_CHECK;
/*
 * Open a sealed text for aad: *out the clear value. LP_ENOTFOUND when its key is not (or no
 * longer) in the file, LP_EAUTH when it does not open (another aad, tampered), LP_EINVAL when it
 * is no sealed text.
 */
int lp_keyring_open(char **out, lp_keyring *k, const char *aad, const char *sealed,
                    lp_error *err) LP_MUST_CHECK;
/* The id of the key a sealed text names (0 when malformed). */
int lp_keyring_sealed_key(const char *sealed);
/* The newest key's id. */
int lp_keyring_current(const lp_keyring *k);
/* HMAC-SHA256 of "<aad>\n<value>" under the fingerprint key, hex. */
int lp_keyring_fingerprint(char out[LP_SHA256_HEX_LEN], lp_keyring *k, const char *aad,
                           const char *value) LP_MUST_CHECK;
/* Add a new newest key and rewrite the file (atomically, 0600); the old keys stay listed. */
int lp_keyring_add_key(lp_keyring *k, lp_error *err) LP_MUST_CHECK;
/* Drop every key but the newest and rewrite the file. */
int lp_keyring_retire_old(lp_keyring *k, lp_error *err) LP_MUST_CHECK;

#endif
