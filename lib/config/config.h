/*
 * config.h - backstop.yaml: the settings every command shares.
 *
 * Layers, lowest to highest precedence:
 *
 *   1. defaults          bs_config_init()
 *   2. the YAML file     bs_config_load()
 *   3. BACKSTOP_* env    bs_config_apply_env()
 *   4. command line      applied by the command itself, after 3
 *
 * File search (bs_config_load): the explicit path (--config), else
 * $BACKSTOP_CONFIG, else ./backstop.yaml, else /etc/backstop/backstop.yaml.
 * An explicit path or $BACKSTOP_CONFIG that does not exist is an error; when
 * neither is given and no file exists, the defaults stand and
 * cfg->config_path stays NULL.
 *
 * The file is validated strictly: unknown keys, wrong types, bad values,
 * duplicate keys and YAML syntax errors are BS_ERR_CONFIG (exit 2) with
 * "file:line:column: ..." in the message (BS_ERR_POLICY for a retention
 * policy file).  See docs/config.md for every key.
 *
 * Secrets are not written in the file: *_file keys (passphrase_file,
 * identity_file) name files holding them, and the crypt module reads those
 * (bs_config_read_secret helps).  A file that does hold a secret (a database
 * password in a conninfo string) must not be readable by group or others: a
 * warning is logged when it is.
 *
 * Ownership: every string and list in struct bs_config is heap-allocated
 * and owned by it; bs_config_release() frees them, wiping the secret ones.
 * Commands that override a string must free the old one (or use
 * bs_config_set_string).
 */
#ifndef BS_CONFIG_CONFIG_H
#define BS_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/log.h"
#include "notify/webhook.h"
#include "probe/probe.h"
#include "release/release.h"
#include "retention/policy.h"

#define BS_CONFIG_ETC_PATH "/etc/backstop/backstop.yaml"
#define BS_CONFIG_CWD_PATH "backstop.yaml"

/* Defaults */
#define BS_CONFIG_SNAP_JOBS_MAX 64
#define BS_CONFIG_COMPRESS_LEVEL 3
#define BS_CONFIG_CHUNK_SIZE (8ULL << 20)
#define BS_CONFIG_CHUNK_SIZE_MIN (64ULL << 10)
#define BS_CONFIG_CHUNK_SIZE_MAX (256ULL << 20)
#define BS_CONFIG_LOCK_TIMEOUT_MS 30000
#define BS_CONFIG_SECRET_MAX (64 * 1024)
#define BS_CONFIG_PART_SIZE_MIN (5ULL << 20)   /* S3's smallest part */
#define BS_CONFIG_PART_SIZE_MAX (5ULL << 30)   /* and its largest */
#define BS_CONFIG_RETRIES_MAX 100

enum bs_enc_mode {
	BS_ENC_UNSET = 0, /* not configured: the command decides (snap refuses) */
	BS_ENC_NONE,      /* "encryption: none": archives are written in clear */
	BS_ENC_AGE,       /* a mapping: age recipients and/or passphrase */
};

struct bs_config {
	char *config_path;        /* the file loaded, or NULL (defaults only) */

	char *database;           /* libpq conninfo or URI for snap; NULL: libpq defaults */
	char *repository;         /* where the repository is: a local directory, or the
				   * s3:// / azure:// location the mapping names; NULL:
				   * none.  --repo and BACKSTOP_REPO replace it. */
	/* 'repository:' as a mapping (docs/config.md): what a backend needs
	 * beyond the location ('path'; 'bucket' for S3; 'account' and
	 * 'container' for Azure Blob). */
	struct bs_config_repository {
		char *path;               /* local directory */
		char *bucket;             /* S3 bucket */
		char *account;            /* Azure storage account */
		char *container;          /* Azure Blob container */
		char *prefix;             /* key prefix inside the bucket or container */
		char *endpoint;           /* https://host[:port]; NULL: the service's own */
		char *region;
		char *access_key_file;    /* files holding credentials; when absent the */
		char *secret_key_file;    /* backend reads its environment (AWS_*, AZURE_*) */
		char *session_token_file;
		char *sas_token_file;
		uint64_t part_size;       /* upload part size; 0: the backend's default */
		int retries;              /* attempts per request after the first; -1: default */
		int64_t retry_timeout_ms; /* total time one request may take retrying; 0: default */
		int64_t stall_timeout_ms; /* no byte moving this long ends an attempt; 0: default */
		int64_t lease_ttl_ms;     /* how long the repository lease lives unless renewed; 0: default */
		char *retention;          /* 'repositories:' entries: their retention policy file */
		char *storage_class;      /* S3 storage class of the objects written */
		char *sse;                /* S3 server-side encryption: AES256 or aws:kms */
		char *sse_kms_key_id;     /* the KMS key for aws:kms */
	} repo;

	/* 'repositories:' (docs/config.md): named repositories, in file
	 * order; the first is the primary.  When given, repository and repo
	 * above hold a copy of the selected one (the primary, or the one
	 * --repo NAME names: bs_config_select_repo). */
	struct bs_config_named_repo {
		char *name;
		char *location;
		struct bs_config_repository repo;
	} *repos;
	size_t nrepos;
	int selected_repo;        /* index into repos of the copy above; -1: none */
	int repo_chosen;          /* --repo or BACKSTOP_REPO chose the repository: a snap
				   * writes that one only (no fan-out) */

	struct bs_config_snap {
		int jobs;                 /* 1..64; 0 = number of cores (the command decides) */
		int compress_level;       /* zstd level 1..19, default 3 */
		uint64_t chunk_size;      /* bytes, 64KiB..256MiB, default 8MiB */
		int64_t lock_timeout_ms;  /* default 30000 */
		char *pg_bindir;          /* NULL: search PATH, then /usr/lib/postgresql/<N>/bin */
		int prune;                /* bool: prune after a successful snap, default 0 */
		int role_passwords;       /* bool: capture role password hashes, default 0 */
	} snap;

	struct bs_config_encryption {
		enum bs_enc_mode mode;
		char **recipients;        /* age1... public keys */
		size_t recipients_count;
		char *recipients_file;    /* one recipient per line */
		char *passphrase_file;    /* file holding a passphrase (scrypt recipient) */
	} encryption;

	struct bs_config_restore {
		char *target;             /* conninfo of the database to restore into */
		int jobs;                 /* 1..64; 0 = number of cores */
		char *identity_file;      /* age identity (AGE-SECRET-KEY-1...) */
		char *passphrase_file;
	} restore;

	struct bs_retention_policy retention; /* bs_retention_policy_init() defaults */
	int has_retention;        /* a retention: section or policy file was given */
	char *retention_path;     /* the policy file loaded (retention.policy), or NULL */

	struct bs_config_drill {
		char *scratch;            /* conninfo of a server for scratch databases */
		char *policy;             /* drill policy file, or NULL */
		int keep;                 /* bool: keep the scratch database afterwards */
		int64_t max_rto_ms;       /* 0 = no limit */
		int64_t max_snapshot_age_ms; /* 0 = no limit */
	} drill;

	struct bs_config_hooks {
		char *pre_snap;           /* executables; NULL = none */
		char *post_snap;
		char *snap_failed;        /* a snap failed (or was interrupted) */
		char *on_failure;         /* older name: snap_failed, and drill_failed when unset */
		char *post_drill;         /* after every drill (verify-restore) */
		char *drill_failed;       /* a drill failed or could not run */
		char *pre_rollback;       /* before a rollback changes anything; non-zero stops it */
		char *post_rollback;      /* after a rollback (BACKSTOP_RESULT ok, unhealthy, failed) */
		char *release_bad;        /* rollback watch: a release was down past the outage limit */
		char *pre_restore;        /* before restore changes the target; non-zero stops it */
		char *post_restore;       /* after every restore attempt (BACKSTOP_RESULT ok, failed) */
		char *gate_no_go;         /* gate check decided NO-GO */
		int64_t timeout_s;        /* a hook running longer is killed; 0: 300 s */
	} hooks;

	struct bs_webhook_set webhooks; /* 'webhooks:' (notify/webhook.h) */

	struct bs_config_gate {
		char *policies;           /* directory of gate policies (<name>.yaml), or NULL:
					   * 'policies' beside the configuration file */
	} gate;

	char *metrics_dir;            /* Prometheus textfile collector directory, or NULL */

	struct bs_probe_set probes;   /* 'probes:' and 'probe:' (probe/probe.h) */
	struct bs_service_set services; /* 'services:' (release/release.h): rollback */

	enum bs_log_level log_level;  /* default BS_LOG_INFO */
	int has_log_level;            /* log_level was given in the file */
};

/* Fill defaults (no allocation). */
void bs_config_init(struct bs_config *cfg);

/* Make the repository named name (an entry of 'repositories:') the one
 * cfg->repository and cfg->repo describe.  1 when selected, 0 when no
 * entry has that name (nothing changed), -1 when out of memory. */
int bs_config_select_repo(struct bs_config *cfg, const char *name, struct bs_err *err);

/* Find and load the file (see the search order above) over cfg.
 * explicit_path may be NULL.  Relative paths in the file resolve against
 * the file's directory.  Returns 0 or -1 with err (BS_ERR_CONFIG,
 * BS_ERR_POLICY, BS_ERR_IO).  On error cfg may hold part of the file's
 * values; release it. */
int bs_config_load(struct bs_config *cfg, const char *explicit_path, struct bs_err *err);

/* Load a YAML text (tests, or a config passed inline); name is used in
 * positions, base_dir for relative paths (may be NULL). */
int bs_config_load_string(struct bs_config *cfg, const char *name, const char *text,
			  const char *base_dir, struct bs_err *err);

/* Apply BACKSTOP_DB, BACKSTOP_REPO, BACKSTOP_JOBS (snap.jobs and
 * restore.jobs), BACKSTOP_IDENTITY_FILE (restore.identity_file),
 * BACKSTOP_PASSPHRASE_FILE (encryption.passphrase_file and
 * restore.passphrase_file; sets encryption.mode to BS_ENC_AGE) and
 * BACKSTOP_SCRATCH (drill.scratch).  Empty variables are ignored.
 * Returns 0 or -1 (BS_ERR_CONFIG) for a bad value. */
int bs_config_apply_env(struct bs_config *cfg, struct bs_err *err);

/* Free everything, wiping secrets; cfg is left as after bs_config_init. */
void bs_config_release(struct bs_config *cfg);

/* Replace *slot with a copy of value (NULL clears), wiping the old one.
 * For commands applying command-line flags.  Returns 0 or -1 (NOMEM). */
int bs_config_set_string(char **slot, const char *value, struct bs_err *err);

/* Read a secret from a file named by a *_file key: bs_secret_read_file
 * (common/secret.h) with at most BS_CONFIG_SECRET_MAX bytes, symbolic links
 * followed, named "secret file" in messages.  One trailing newline removed;
 * a file readable by group or others is refused (BS_ERR_SECRET_PERM), as ssh
 * does; an empty one too.  *out is NUL-terminated; free it with
 * bs_secret_free (bs_config_free_secret is the same, kept for callers). */
int bs_config_read_secret(const char *path, char **out, size_t *len, struct bs_err *err);
void bs_config_free_secret(char *s, size_t len);

/* 1 if a libpq conninfo string or URI carries a password. */
int bs_conninfo_has_password(const char *conninfo);

#endif
