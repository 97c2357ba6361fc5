/*
 * ledger.h - a service's release ledger (docs/rollback.md, docs/format.md
 * "Release ledger").
 *
 * Append-only records in the repository catalog:
 *
 *   releases/<service>/<seq>.json   seq: 10 digits from 0000000001
 *   releases/<service>/head.json    {"seq": N, "sha256": "<hex of record N>"}
 *
 * Each record holds the SHA-256 of the previous record's bytes ("prev"),
 * so an edited record breaks the chain at the next one, a deleted one
 * leaves a gap, and head.json (rewritten after each append) catches the
 * newest record being edited or removed.  Records are written create-only:
 * two writers racing for one seq cannot both win.
 *
 * Events: deploy (a release: image and digest, the pre-deploy snapshot),
 * good and bad (a release verified known-good, or marked bad), rollback and
 * forward (the service moved to an older or a newer release: from, to,
 * reason, result, the database part).
 *
 * Ownership: a ledger owns its records and their strings;
 * bs_ledger_release frees them.  A record given to bs_ledger_append is the
 * caller's; the ledger keeps a copy.
 */
#ifndef BS_RELEASE_LEDGER_H
#define BS_RELEASE_LEDGER_H

#include <stdint.h>
#include <time.h>

#include "catalog/catalog.h"
#include "common/err.h"
#include "release/release.h"

struct bs_repo;

enum bs_ledger_event {
	BS_EV_DEPLOY = 1,
	BS_EV_GOOD,
	BS_EV_BAD,
	BS_EV_ROLLBACK,
	BS_EV_FORWARD,
};
const char *bs_ledger_event_name(int ev);

struct bs_ledger_record {
	uint64_t seq;
	char id[BS_ID_MAX];          /* this record's id; a deploy's id is its release id */
	int event;                   /* enum bs_ledger_event */
	time_t time;
	char *service;
	char *actor;
	char *reason;                /* required for rollback and forward */
	char *release;               /* good/bad: the release marked; rollback/forward: the one moved to */
	char *image;                 /* deploy: the reference given (with its tag); rollback: the target's repository */
	char digest[BS_DIGEST_MAX];  /* deploy: the release's digest; rollback/forward: the target's */
	char *from_release;          /* rollback/forward: the release moved away from (NULL: unknown) */
	char from_digest[BS_DIGEST_MAX];
	char *snapshot;              /* deploy: the pre-deploy snapshot; rollback: the snapshot restored */
	char *safety_snapshot;       /* rollback --with-db: the database's snapshot taken before the restore */
	char *db_kept;               /* rollback --with-db: the name the replaced database is kept under */
	char *result;                /* rollback/forward: "ok", "unhealthy" (applied, probes failed), "failed" */
	char *driver;
	char *detail;                /* what the driver did */
	char *kept;                  /* what the driver kept to go back */
	char prev[65];               /* SHA-256 (hex) of the previous record's bytes; "" for seq 1 */
	/* not stored: */
	char hash[65];               /* SHA-256 (hex) of this record's bytes as stored */
};

void bs_ledger_record_release(struct bs_ledger_record *r);

struct bs_ledger {
	char service[BS_SERVICE_NAME_MAX + 1];
	struct bs_ledger_record *v;  /* by seq */
	size_t n, cap;
	uint64_t head_seq;           /* head.json, 0 when absent */
	uint64_t max_seq;            /* the highest seq of any record key listed, readable or not */
	char head_hash[65];
	/* what bs_ledger_load found wrong, one problem per line ("" when none) */
	char *problems;
	size_t nproblems;
	char *notes;                 /* not a break: an append interrupted before head.json */
};

void bs_ledger_init(struct bs_ledger *l);
void bs_ledger_release(struct bs_ledger *l);

/* Load the service's ledger.  A record that cannot be read, a gap, a
 * broken chain or a head that disagrees is not an error here: it is
 * listed in l->problems (the records that could be read are kept).  An
 * empty ledger is fine.  -1 only when the repository could not be read. */
int bs_ledger_load(struct bs_repo *repo, const char *service, struct bs_ledger *l, struct bs_err *err);

/* Append rec (seq, prev and id filled here; time and actor by the caller)
 * and rewrite head.json.  The caller holds the service's lease.  A ledger
 * with problems is appended to anyway, after the highest seq any record
 * key or head.json names (an emergency rollback is never blocked by a
 * damaged ledger; the break stays visible to --verify).  The record is
 * not added to l->v (pointers into it stay valid): l->head_seq, head_hash
 * and max_seq follow, so a second append chains to it; reload to see it.
 * BS_ERR_EXISTS when another writer took the seq (reload and retry);
 * BS_ERR_USAGE for a record over BS_LEDGER_RECORD_MAX bytes. */
#define BS_LEDGER_RECORD_MAX (64 * 1024)
#define BS_LEDGER_TEXT_MAX 4096   /* reason, actor: longer is refused by the commands */
int bs_ledger_append(struct bs_repo *repo, struct bs_ledger *l, struct bs_ledger_record *rec, struct bs_err *err);

/* The lease that serializes changes to one service: "rollback-<service>". */
void bs_ledger_lease_name(const char *service, char out[40]);

/* ---- state (state.c): what the ledger says -------------------------------- */

enum bs_release_mark { BS_MARK_NONE = 0, BS_MARK_GOOD, BS_MARK_BAD };

struct bs_release_info {
	const struct bs_ledger_record *deploy;
	int mark;                    /* the newest good/bad mark (a rollback away marks bad) */
	const struct bs_ledger_record *mark_rec;
	int current;                 /* the release the service runs, as the ledger says */
	long before;                 /* the release that ran when this one was deployed (index), -1: none */
};

struct bs_release_state {
	struct bs_release_info *v;   /* releases in deploy order, oldest first */
	size_t n;
	long current;                /* index into v, -1: none */
};

int bs_release_state_build(const struct bs_ledger *l, struct bs_release_state *st, struct bs_err *err);
void bs_release_state_release(struct bs_release_state *st);
/* "current", "known-good", "bad", "current, known-good" ... into out. */
void bs_release_state_label(const struct bs_release_info *i, char *out, size_t n);

/* The release to move to: spec NULL (last-good: the newest release marked
 * known-good that is not the current one and runs another digest), a
 * release id (or unique prefix), or a digest (the newest release with
 * it).  A bad release is refused unless allow_bad.  Returns the index, or
 * -1 with err (BS_ERR_NOT_FOUND, BS_ERR_REFUSED) saying why. */
long bs_release_target(const struct bs_release_state *st, const char *spec, int allow_bad, struct bs_err *err);
/* A release by id (or a unique prefix of at least 4 characters) or digest
 * ("sha256:" and at least 12 hex digits, or the hex digits alone; the
 * newest release with it): its index, or -1 with err. */
long bs_release_find(const struct bs_release_state *st, const char *spec, struct bs_err *err);

#endif
