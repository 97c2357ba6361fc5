/*
 * ledger.c - the release ledger's records: reading, chain checks,
 * appending (ledger.h).
 */
#include "release/ledger.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/log.h"
#include "repo/repo.h"
#include "report/report.h"

#define RECORD_MAX BS_LEDGER_RECORD_MAX
#define LEDGER_MAX 100000
#define SEQ_DIGITS 10

static const char *const events[] = { [BS_EV_DEPLOY] = "deploy", [BS_EV_GOOD] = "good", [BS_EV_BAD] = "bad",
				      [BS_EV_ROLLBACK] = "rollback", [BS_EV_FORWARD] = "forward" };

const char *bs_ledger_event_name(int ev)
{
	return ev >= BS_EV_DEPLOY && ev <= BS_EV_FORWARD ? events[ev] : "?";
}

static int event_parse(const char *s)
{
	for (int i = BS_EV_DEPLOY; s && i <= BS_EV_FORWARD; i++)
		if (strcmp(s, events[i]) == 0)
			return i;
	return 0;
}

void bs_ledger_lease_name(const char *service, char out[40])
{
	snprintf(out, 40, "rollback-%s", service);
}

void bs_ledger_record_release(struct bs_ledger_record *r)
{
	if (!r)
		return;
	free(r->service), free(r->actor), free(r->reason), free(r->release), free(r->image);
	free(r->from_release), free(r->snapshot), free(r->safety_snapshot), free(r->db_kept);
	free(r->result), free(r->driver), free(r->detail), free(r->kept);
	memset(r, 0, sizeof(*r));
}

void bs_ledger_init(struct bs_ledger *l)
{
	memset(l, 0, sizeof(*l));
}

void bs_ledger_release(struct bs_ledger *l)
{
	for (size_t i = 0; l && i < l->n; i++)
		bs_ledger_record_release(&l->v[i]);
	if (l) {
		free(l->v);
		free(l->problems);
		free(l->notes);
	}
	bs_ledger_init(l);
}

/* Append a line to *buf (problems, notes). */
static void add_line(char **buf, size_t *count, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_line(char **buf, size_t *count, const char *fmt, ...)
{
	char line[512];
	size_t old = *buf ? strlen(*buf) : 0;
	va_list ap;
	char *nb;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!(nb = realloc(*buf, old + strlen(line) + 2)))
		return;
	memcpy(nb + old, line, strlen(line));
	nb[old + strlen(line)] = '\n';
	nb[old + strlen(line) + 1] = 0;
	*buf = nb;
	if (count)
		(*count)++;
}

#define PROBLEM(l, ...) add_line(&(l)->problems, &(l)->nproblems, __VA_ARGS__)

/* ---- record <-> JSON --------------------------------------------------------- */

static int set_opt(json_t *o, const char *k, const char *v)
{
	return v && *v ? json_object_set_new(o, k, json_string(v)) : 0;
}

static char *record_text(const struct bs_ledger_record *r)
{
	json_t *o = json_object();
	char t[32];
	char *text = NULL;
	int bad = 0;

	if (!o)
		return NULL;
	bs_time_iso(r->time, t);
	bad |= json_object_set_new(o, "version", json_integer(1));
	bad |= json_object_set_new(o, "seq", json_integer((json_int_t)r->seq));
	bad |= json_object_set_new(o, "id", json_string(r->id));
	bad |= json_object_set_new(o, "service", json_string(r->service));
	bad |= json_object_set_new(o, "event", json_string(bs_ledger_event_name(r->event)));
	bad |= json_object_set_new(o, "time", json_string(t));
	bad |= json_object_set_new(o, "actor", json_string(r->actor ? r->actor : ""));
	bad |= set_opt(o, "reason", r->reason);
	bad |= set_opt(o, "release", r->release);
	bad |= set_opt(o, "image", r->image);
	bad |= set_opt(o, "digest", r->digest);
	bad |= set_opt(o, "from_release", r->from_release);
	bad |= set_opt(o, "from_digest", r->from_digest);
	bad |= set_opt(o, "snapshot", r->snapshot);
	bad |= set_opt(o, "safety_snapshot", r->safety_snapshot);
	bad |= set_opt(o, "db_kept", r->db_kept);
	bad |= set_opt(o, "result", r->result);
	bad |= set_opt(o, "driver", r->driver);
	bad |= set_opt(o, "detail", r->detail);
	bad |= set_opt(o, "kept", r->kept);
	bad |= json_object_set_new(o, "prev", r->prev[0] ? json_string(r->prev) : json_null());
	if (!bad)
		text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

static void get_buf(json_t *o, const char *k, char *out, size_t n, int *bad)
{
	json_t *v = json_object_get(o, k);

	out[0] = 0;
	if (!v || json_is_null(v))
		return;
	if (!json_is_string(v) || strlen(json_string_value(v)) >= n) {
		*bad = 1;
		return;
	}
	strcpy(out, json_string_value(v));
}

/* Parse one record; 0, or -1 with why in msg. */
static int record_parse(struct bs_ledger_record *r, const char *buf, size_t len, char *msg, size_t msgn)
{
	json_error_t je;
	json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je), *seq;
	const char *t, *ev;
	int bad = 0;

	memset(r, 0, sizeof(*r));
	if (!o || !json_is_object(o)) {
		snprintf(msg, msgn, "not a JSON object (%s)", o ? "another value" : je.text);
		json_decref(o);
		return -1;
	}
	seq = json_object_get(o, "seq");
	if (json_is_integer(seq) && json_integer_value(seq) > 0)
		r->seq = (uint64_t)json_integer_value(seq);
	else
		bad = 1;
	get_buf(o, "id", r->id, sizeof(r->id), &bad);
	ev = json_string_value(json_object_get(o, "event"));
	r->event = event_parse(ev);
	t = json_string_value(json_object_get(o, "time"));
	if (!t || bs_time_parse(t, &r->time) < 0)
		bad = 1;
	r->service = bs_json_get_text(o, "service", &bad);
	r->actor = bs_json_get_text(o, "actor", &bad);
	r->reason = bs_json_get_text(o, "reason", &bad);
	r->release = bs_json_get_text(o, "release", &bad);
	r->image = bs_json_get_text(o, "image", &bad);
	get_buf(o, "digest", r->digest, sizeof(r->digest), &bad);
	r->from_release = bs_json_get_text(o, "from_release", &bad);
	get_buf(o, "from_digest", r->from_digest, sizeof(r->from_digest), &bad);
	r->snapshot = bs_json_get_text(o, "snapshot", &bad);
	r->safety_snapshot = bs_json_get_text(o, "safety_snapshot", &bad);
	r->db_kept = bs_json_get_text(o, "db_kept", &bad);
	r->result = bs_json_get_text(o, "result", &bad);
	r->driver = bs_json_get_text(o, "driver", &bad);
	r->detail = bs_json_get_text(o, "detail", &bad);
	r->kept = bs_json_get_text(o, "kept", &bad);
	get_buf(o, "prev", r->prev, sizeof(r->prev), &bad);
	json_decref(o);
	if (bad || !r->event || !r->id[0] || !r->service ||
	    (r->event == BS_EV_DEPLOY && (!r->image || !bs_digest_ok(r->digest))) ||
	    (r->event != BS_EV_DEPLOY && !r->release)) {
		snprintf(msg, msgn, "a missing or malformed field");
		bs_ledger_record_release(r);
		return -1;
	}
	return 0;
}

static void sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char d[BS_SHA256_LEN];
	struct bs_err e;

	bs_err_init(&e);
	if (bs_sha256(buf, len, d, &e) < 0) {
		out[0] = 0;
		return;
	}
	bs_hex(d, sizeof(d), out);
}

/* ---- load ---------------------------------------------------------------------- */

struct keys {
	struct bs_repo_keys records;
	int head;
	char *other;       /* an unexpected object, for the problems */
	size_t prefix_len; /* "releases/<service>/" */
};

static int seq_key(const char *name, uint64_t *seq)
{
	uint64_t s = 0;

	for (int i = 0; i < SEQ_DIGITS; i++) {
		if (!isdigit((unsigned char)name[i]))
			return 0;
		s = s * 10 + (uint64_t)(name[i] - '0');
	}
	if (strcmp(name + SEQ_DIGITS, ".json") != 0 || s == 0)
		return 0;
	*seq = s;
	return 1;
}

static int collect(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	struct keys *k = ud;
	const char *name = strrchr(e->key, '/');
	uint64_t seq;

	name = name ? name + 1 : e->key;
	if ((size_t)(name - e->key) != k->prefix_len) {
		/* releases/<svc>/x/...: never a record of this ledger */
		if (!k->other)
			k->other = strdup(e->key);
		return 0;
	}
	if (strcmp(name, "head.json") == 0) {
		k->head = 1;
		return 0;
	}
	if (e->is_link || !seq_key(name, &seq)) {
		if (!k->other)
			k->other = strdup(e->key);
		return 0;
	}
	if (k->records.n >= LEDGER_MAX)
		return bs_err_set(err, BS_ERR_FORMAT, "more than %d ledger records", LEDGER_MAX);
	return bs_repo_keys_add(&k->records, e->key, err);
}

static int push(struct bs_ledger *l, const struct bs_ledger_record *r)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 32;
		struct bs_ledger_record *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		l->v = nv, l->cap = nc;
	}
	l->v[l->n++] = *r;
	return 0;
}

static void load_head(struct bs_repo *repo, struct bs_ledger *l, const char *prefix)
{
	char key[128], *buf = NULL;
	size_t len = 0;
	struct bs_err e;
	json_t *o;

	bs_err_init(&e);
	snprintf(key, sizeof(key), "%shead.json", prefix);
	if (bs_repo_get_bytes(repo, key, 4096, &buf, &len, &e) < 0) {
		PROBLEM(l, "%s cannot be read: %s", key, e.msg);
		return;
	}
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	free(buf);
	if (!o || !json_is_integer(json_object_get(o, "seq")) || !json_is_string(json_object_get(o, "sha256")) ||
	    strlen(json_string_value(json_object_get(o, "sha256"))) != 64) {
		PROBLEM(l, "%s is not a ledger head", key);
		json_decref(o);
		return;
	}
	l->head_seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
	snprintf(l->head_hash, sizeof(l->head_hash), "%s", json_string_value(json_object_get(o, "sha256")));
	json_decref(o);
}

static void check_chain(struct bs_ledger *l, const char *prefix, uint64_t max_seq)
{
	uint64_t expect = 1;

	for (size_t i = 0; i < l->n; i++) {
		struct bs_ledger_record *r = &l->v[i];
		if (r->seq > expect) {
			if (r->seq == expect + 1)
				PROBLEM(l, "record %llu is missing (deleted?)", (unsigned long long)expect);
			else
				PROBLEM(l, "records %llu to %llu are missing (deleted?)", (unsigned long long)expect,
					(unsigned long long)r->seq - 1);
		}
		if (i > 0 && l->v[i - 1].seq == r->seq - 1 && strcmp(r->prev, l->v[i - 1].hash) != 0)
			PROBLEM(l, "record %llu was edited or replaced: its SHA-256 is not the one record %llu holds",
				(unsigned long long)l->v[i - 1].seq, (unsigned long long)r->seq);
		if (i == 0 && r->seq == 1 && r->prev[0])
			PROBLEM(l, "record 1 names a previous record: the ledger's start was cut off");
		if (strcmp(r->service, l->service) != 0)
			PROBLEM(l, "record %llu belongs to service '%s'", (unsigned long long)r->seq, r->service);
		expect = r->seq + 1;
	}
	if (!l->n && !l->head_seq)
		return;
	if (!l->head_seq && !l->head_hash[0]) {
		if (l->n == 1 && l->v[0].seq == 1 && max_seq == 1)
			add_line(&l->notes, NULL, "head.json was not written after record 1 (an append interrupted); the next append writes it");
		else if (l->n)
			PROBLEM(l, "%shead.json is missing", prefix);
		return;
	}
	if (l->head_seq > max_seq) {
		PROBLEM(l, "record %llu (the newest, as head.json says) is missing (deleted?)",
			(unsigned long long)l->head_seq);
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct bs_ledger_record *r = &l->v[i];
		if (r->seq != l->head_seq)
			continue;
		if (strcmp(r->hash, l->head_hash) != 0)
			PROBLEM(l, "record %llu was edited or replaced: its SHA-256 is not the one head.json holds",
				(unsigned long long)r->seq);
		else if (i + 1 == l->n - 1 && l->v[i + 1].seq == r->seq + 1)
			add_line(&l->notes, NULL, "head.json was not updated after record %llu (an append interrupted); the next append repairs it",
				 (unsigned long long)l->v[i + 1].seq);
		else if (i + 1 < l->n)
			PROBLEM(l, "head.json names record %llu, but records after it exist", (unsigned long long)r->seq);
		return;
	}
}

static int by_seq(const void *a, const void *b)
{
	const struct bs_ledger_record *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int bs_ledger_load(struct bs_repo *repo, const char *service, struct bs_ledger *l, struct bs_err *err)
{
	char prefix[64];
	struct keys k = { 0 };
	struct bs_repo_fetch *f = NULL;
	uint64_t max_seq = 0;
	int rc = -1;

	bs_ledger_release(l);
	if (!bs_service_name_ok(service))
		return bs_err_set(err, BS_ERR_USAGE, "invalid service name '%s'", service);
	snprintf(l->service, sizeof(l->service), "%s", service);
	snprintf(prefix, sizeof(prefix), "releases/%s/", service);
	k.prefix_len = strlen(prefix);
	if (bs_repo_list(repo, prefix, collect, &k, err) < 0) {
		bs_err_prefix(err, "unable to read the release ledger of '%s'", service);
		goto out;
	}
	if (k.other)
		PROBLEM(l, "%s is not a ledger record", k.other);
	if (k.head)
		load_head(repo, l, prefix);
	if (k.records.n && !(f = calloc(k.records.n, sizeof(*f)))) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < k.records.n; i++)
		f[i].key = k.records.v[i];
	if (k.records.n && bs_repo_get_many(repo, f, k.records.n, RECORD_MAX, err) < 0)
		goto out;
	for (size_t i = 0; i < k.records.n; i++) {
		struct bs_ledger_record r;
		char msg[256];
		uint64_t kseq = 0;

		seq_key(strrchr(k.records.v[i], '/') + 1, &kseq);
		if (kseq > max_seq)
			max_seq = kseq;
		if (f[i].rc < 0) {
			PROBLEM(l, "%s cannot be read: %s", k.records.v[i], f[i].err.msg);
			continue;
		}
		if (record_parse(&r, f[i].buf, f[i].len, msg, sizeof(msg)) < 0) {
			PROBLEM(l, "%s is not a valid ledger record: %s", k.records.v[i], msg);
			continue;
		}
		if (r.seq != kseq) {
			PROBLEM(l, "%s holds record %llu: moved or copied", k.records.v[i], (unsigned long long)r.seq);
			bs_ledger_record_release(&r);
			continue;
		}
		sha256_hex(f[i].buf, f[i].len, r.hash);
		if (push(l, &r) < 0) {
			bs_ledger_record_release(&r);
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), by_seq);
	l->max_seq = max_seq;
	check_chain(l, prefix, max_seq);
	rc = 0;
out:
	for (size_t i = 0; f && i < k.records.n; i++)
		free(f[i].buf);
	bs_repo_keys_release(&k.records);
	free(k.other);
	free(f);
	return rc;
}

/* ---- append ------------------------------------------------------------------ */

int bs_ledger_append(struct bs_repo *repo, struct bs_ledger *l, struct bs_ledger_record *rec, struct bs_err *err)
{
	const struct bs_ledger_record *last = l->n ? &l->v[l->n - 1] : NULL;
	char key[128], head[160], *text;
	uint64_t seq = last ? last->seq + 1 : 1;
	int rc;

	/* never reuse the seq of a record that went missing or cannot be read */
	if (l->head_seq >= seq)
		seq = l->head_seq + 1;
	if (l->max_seq >= seq)
		seq = l->max_seq + 1;
	rec->seq = seq;
	/* chain to the newest record known: the one appended last by this
	 * process (head_hash), else the newest one read */
	if (l->head_seq == seq - 1 && l->head_hash[0])
		snprintf(rec->prev, sizeof(rec->prev), "%s", l->head_hash);
	else
		snprintf(rec->prev, sizeof(rec->prev), "%s", last && last->seq == seq - 1 ? last->hash : "");
	if (!rec->id[0])
		bs_catalog_new_id(rec->time, rec->id);
	if (!rec->service)
		rec->service = strdup(l->service);
	if (!rec->service || !(text = record_text(rec)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (strlen(text) > RECORD_MAX) {
		size_t len = strlen(text);
		free(text);
		return bs_err_set(err, BS_ERR_USAGE, "a ledger record of %zu bytes is too long (at most %d): shorten the reason",
				  len, RECORD_MAX);
	}
	snprintf(key, sizeof(key), "releases/%s/%0*llu.json", l->service, SEQ_DIGITS, (unsigned long long)seq);
	rc = bs_repo_create_bytes(repo, key, text, strlen(text), err);
	if (rc < 0) {
		free(text);
		if (err->code == BS_ERR_EXISTS)
			bs_err_hint(err, "another process appended to the ledger of '%s' meanwhile: run the command again", l->service);
		return bs_err_prefix(err, "unable to append to the release ledger of '%s'", l->service);
	}
	sha256_hex(text, strlen(text), rec->hash);
	free(text);
	snprintf(head, sizeof(head), "{\n  \"seq\": %llu,\n  \"sha256\": \"%s\"\n}\n", (unsigned long long)seq, rec->hash);
	snprintf(key, sizeof(key), "releases/%s/head.json", l->service);
	if (bs_repo_put_bytes(repo, key, head, strlen(head), err) < 0) {
		/* The record is in; the head lags by one, which --verify tells
		 * apart from tampering and the next append repairs. */
		bs_warn("the release ledger's head of '%s' could not be updated: %s", l->service, err->msg);
		bs_err_init(err);
	}
	l->head_seq = seq;
	memcpy(l->head_hash, rec->hash, sizeof(l->head_hash));
	l->max_seq = seq;
	return 0;
}
