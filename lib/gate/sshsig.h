/*
 * sshsig.h - SSH signatures (the SSHSIG format of `ssh-keygen -Y sign`,
 * PROTOCOL.sshsig in OpenSSH) with Ed25519 keys, verified with OpenSSL,
 * and allowed-signers entries (`ssh-keygen -Y verify -f allowed_signers`).
 *
 * Only ssh-ed25519 keys are accepted; any other key type is an error
 * naming it ("only ssh-ed25519 keys are supported, not 'ssh-rsa'").
 *
 * An armored signature:
 *   -----BEGIN SSH SIGNATURE-----
 *   <base64 of: "SSHSIG" uint32(1) string(publickey) string(namespace)
 *               string(reserved) string(hash_algorithm) string(signature)>
 *   -----END SSH SIGNATURE-----
 * The signed data is "SSHSIG" string(namespace) string(reserved)
 * string(hash_algorithm) string(H(message)), H sha512 or sha256.
 *
 * Ownership: everything here is caller-allocated, fixed-size or
 * owned by the struct (release functions).
 */
#ifndef BS_GATE_SSHSIG_H
#define BS_GATE_SSHSIG_H

#include <stddef.h>

#include "common/err.h"

#define BS_SSH_ED25519_LEN 32
/* "SHA256:" + 43 base64 characters (no padding), as ssh-keygen -l prints. */
#define BS_SSH_FP_MAX 64

struct bs_ssh_key {
	unsigned char pk[BS_SSH_ED25519_LEN];
	char fingerprint[BS_SSH_FP_MAX];
};

/* Parse "ssh-ed25519 AAAA... [comment]" (an OpenSSH public key line, as in
 * id_ed25519.pub).  BS_ERR_FORMAT naming what is wrong. */
int bs_ssh_pubkey_parse(const char *line, struct bs_ssh_key *key, struct bs_err *err);
/* The public key line "ssh-ed25519 AAAA..." (no comment) into out. */
int bs_ssh_pubkey_format(const struct bs_ssh_key *key, char *out, size_t n);

/* One allowed-signers line: "principal[,principal...] [options] ssh-ed25519
 * AAAA... [comment]" (options such as namespaces="..." are read and kept
 * only for namespaces: a listed namespaces option must include the
 * namespace checked, else the entry does not match).  Blank lines and
 * '#' comments are not entries (returns 1, nothing filled). */
#define BS_SSH_PRINCIPALS_MAX 16
struct bs_allowed_signer {
	char *principals[BS_SSH_PRINCIPALS_MAX]; /* at least one */
	size_t nprincipals;
	char *namespaces;                  /* the namespaces="..." option, or NULL: any */
	struct bs_ssh_key key;
};
void bs_allowed_signer_init(struct bs_allowed_signer *s);
void bs_allowed_signer_release(struct bs_allowed_signer *s);
/* 0 parsed, 1 blank/comment, -1 error (BS_ERR_FORMAT). */
int bs_allowed_signer_parse(const char *line, struct bs_allowed_signer *s, struct bs_err *err);
/* Does s allow signatures in namespace ns? */
int bs_allowed_signer_ns_ok(const struct bs_allowed_signer *s, const char *ns);

/* Verify an armored SSHSIG over msg in namespace ns.  On success the
 * signer's key goes to *signer (the caller then decides whether that key
 * is allowed).  Errors: malformed armor or blob, another version, another
 * namespace, an unsupported key or hash type: BS_ERR_FORMAT; a signature
 * that does not verify: BS_ERR_VERIFY ("signature does not match the
 * statement"). */
int bs_sshsig_verify(const char *armored, size_t len, const char *ns, const void *msg, size_t msglen,
		     struct bs_ssh_key *signer, struct bs_err *err);

#endif
