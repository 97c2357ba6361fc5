/* record.c - snapshot records <-> JSON, ids and times (catalog.h) */
#include <ctype.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/reader.h"
#include "catalog/catalog.h"
#include "common/hash.h"

void bs_snap_record_init(struct bs_snap_record *r)
{
	memset(r, 0, sizeof(*r));
}

void bs_snap_record_release(struct bs_snap_record *r)
{
	size_t i;

	if (!r)
		return;
	free(r->database);
	free(r->server_version);
	free(r->archive);
	free(r->status);
	for (i = 0; i < r->nrecipients; i++)
		free(r->recipients[i]);
	free(r->recipients);
	free(r->tool_version);
	free(r->pin_reason);
	free(r->drill_verdict);
	memset(r, 0, sizeof(*r));
}

static char *dup_or_null(const char *s, int *bad)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*bad = 1;
	return d;
}

int bs_snap_record_copy(struct bs_snap_record *dst, const struct bs_snap_record *src)
{
	int bad = 0;
	size_t i;

	*dst = *src; /* scalars and digests; every pointer is replaced below */
	dst->database = dup_or_null(src->database, &bad);
	dst->server_version = dup_or_null(src->server_version, &bad);
	dst->archive = dup_or_null(src->archive, &bad);
	dst->status = dup_or_null(src->status, &bad);
	dst->tool_version = dup_or_null(src->tool_version, &bad);
	dst->pin_reason = dup_or_null(src->pin_reason, &bad);
	dst->drill_verdict = dup_or_null(src->drill_verdict, &bad);
	dst->recipients = NULL;
	dst->nrecipients = 0;
	if (src->nrecipients) {
		dst->recipients = calloc(src->nrecipients, sizeof(char *));
		if (!dst->recipients)
			bad = 1;
		for (i = 0; dst->recipients && i < src->nrecipients; i++)
			if ((dst->recipients[dst->nrecipients] = dup_or_null(src->recipients[i], &bad)))
				dst->nrecipients++;
	}
	if (bad) {
		bs_snap_record_release(dst);
		return -1;
	}
	return 0;
}

void bs_time_iso(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int bs_time_parse(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;
	char *e;
	long long v;

	if (!s || !*s)
		return -1;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
	}
	if (end && (*end == '\0' || strcmp(end, "Z") == 0 || strcmp(end, "+00:00") == 0)) {
		struct tm back, want = tm;
		time_t t = timegm(&tm);

		/* strptime takes 2026-02-31 and timegm rolls it into March: a
		 * date that does not exist is refused */
		if (!gmtime_r(&t, &back) || back.tm_mday != want.tm_mday || back.tm_mon != want.tm_mon ||
		    back.tm_hour != want.tm_hour || back.tm_min != want.tm_min)
			return -1;
		*out = t;
		return 0;
	}
	v = strtoll(s, &e, 10);
	if (*e == '\0' && v > 0) {
		*out = (time_t)v;
		return 0;
	}
	return -1;
}

void bs_catalog_new_id(time_t start, char out[BS_ID_MAX])
{
	unsigned char rnd[3] = { 0, 0, 0 };
	struct tm tm;
	char ts[32];

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		unsigned v = (unsigned)getpid() ^ (unsigned)start;
		rnd[0] = (unsigned char)v;
		rnd[1] = (unsigned char)(v >> 8);
		rnd[2] = (unsigned char)(v >> 16);
	}
	gmtime_r(&start, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(out, BS_ID_MAX, "%s-%02x%02x%02x", ts, rnd[0], rnd[1], rnd[2]);
}

int bs_catalog_valid_id(const char *s)
{
	const char *shape = "ddddddddTddddddZ-xxxxxx";
	size_t i;

	if (!s || strlen(s) != strlen(shape))
		return 0;
	for (i = 0; shape[i]; i++) {
		char c = s[i];
		if (shape[i] == 'd' && !isdigit((unsigned char)c))
			return 0;
		if (shape[i] == 'x' && !isxdigit((unsigned char)c))
			return 0;
		if (shape[i] != 'd' && shape[i] != 'x' && shape[i] != c)
			return 0;
	}
	return 1;
}

json_t *bs_snap_record_object(const struct bs_snap_record *r)
{
	json_t *o = json_object(), *rc = json_array();
	char st[32], en[32];
	size_t i;

	bs_time_iso(r->start, st);
	bs_time_iso(r->end, en);
	for (i = 0; i < r->nrecipients; i++)
		json_array_append_new(rc, json_string(r->recipients[i]));
	json_object_set_new(o, "format", json_string("backstop-snapshot-record"));
	json_object_set_new(o, "version", json_integer(r->has_digests ? 2 : 1));
	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "database", json_string(r->database ? r->database : ""));
	json_object_set_new(o, "server_version", json_string(r->server_version ? r->server_version : ""));
	json_object_set_new(o, "start", json_string(st));
	json_object_set_new(o, "end", json_string(en));
	json_object_set_new(o, "duration_ms", json_integer((json_int_t)r->duration_ms));
	json_object_set_new(o, "bytes", json_integer((json_int_t)r->bytes));
	json_object_set_new(o, "archive", json_string(r->archive ? r->archive : ""));
	json_object_set_new(o, "status", json_string(r->status ? r->status : "complete"));
	json_object_set_new(o, "encrypted", json_boolean(r->encrypted));
	json_object_set_new(o, "recipients", rc);
	json_object_set_new(o, "passphrase", json_boolean(r->passphrase));
	json_object_set_new(o, "tool_version", json_string(r->tool_version ? r->tool_version : BS_VERSION));
	json_object_set_new(o, "tables", json_integer((json_int_t)r->tables));
	json_object_set_new(o, "chunks", json_integer((json_int_t)r->chunks));
	if (r->has_digests) {
		const struct { const char *k; const unsigned char *v; } d[] = {
			{ "archive_sha256", r->archive_sha256 }, { "header_sha256", r->header_sha256 },
			{ "schema_sha256", r->schema_sha256 }, { "manifest_sha256", r->manifest_sha256 },
		};
		for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
			char hex[BS_SHA256_HEX_LEN + 1];
			bs_hex(d[i].v, 32, hex);
			json_object_set_new(o, d[i].k, json_string(hex));
		}
	}
	return o;
}

int bs_snap_record_to_json(const struct bs_snap_record *r, char **out, size_t *len, struct bs_err *err)
{
	json_t *o = bs_snap_record_object(r);

	*out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!*out)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	*len = strlen(*out);
	return 0;
}

static char *dup_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? strdup(s) : NULL;
}

/* ---- validation: a record is trusted only when every field is sane ---- */

#define REC_TEXT_MAX 64            /* server_version, tool_version */
#define REC_DBNAME_MAX 63          /* NAMEDATALEN - 1 */
#define REC_RECIPIENTS_MAX 256
#define REC_COUNT_MAX 4294967295LL /* tables, chunks */
#define REC_SIZE_MAX 9007199254740991LL /* 2^53 - 1: bytes, duration_ms */
#define REC_TIME_MIN 946684800     /* 2000-01-01 */
#define REC_SKEW_S 86400           /* how long after the id's time a snap may start */

/* "2026-11-23T02:15:00Z" exactly, as bs_time_iso writes it */
static int strict_time(json_t *o, const char *k, time_t *out)
{
	const char *s = json_string_value(json_object_get(o, k));
	struct tm tm;
	const char *end;

	if (!s || strlen(s) != 20)
		return -1;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	*out = timegm(&tm);
	return *out >= REC_TIME_MIN ? 0 : -1;
}

static int int_field(json_t *o, const char *k, long long max, uint64_t *out)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* A string without NUL bytes (jansson allows \u0000), 1..max bytes. */
static int text_field(json_t *o, const char *k, size_t max)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) && json_string_length(v) >= 1 && json_string_length(v) <= max &&
	       strlen(json_string_value(v)) == json_string_length(v);
}

static int valid_recipient(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n < 5 || n > 100 || strncmp(s, "age1", 4) != 0)
		return 0;
	for (i = 4; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* The id's own time: "YYYYMMDDTHHMMSSZ-..." */
static time_t id_time(const char *id)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!strptime(id, "%Y%m%dT%H%M%SZ", &tm))
		return 0;
	return timegm(&tm);
}

/* NULL if o is a sane record, else what is wrong with it. */
static const char *check_fields(json_t *o, const char *id, struct bs_snap_record *r)
{
	json_t *rc = json_object_get(o, "recipients"), *v;
	const char *archive = json_string_value(json_object_get(o, "archive"));
	const char *status = json_string_value(json_object_get(o, "status"));
	char want[BS_ID_MAX + 32];
	time_t it = id_time(id);
	size_t i;

	v = json_object_get(o, "version");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > BS_SNAP_RECORD_VERSION)
		return "'version' is missing or not one this backstop reads";
	if (!text_field(o, "database", REC_DBNAME_MAX))
		return "'database' is missing, empty, longer than 63 bytes or holds a NUL byte";
	if (!text_field(o, "server_version", REC_TEXT_MAX))
		return "'server_version' is missing or malformed";
	if (json_object_get(o, "tool_version") && !text_field(o, "tool_version", REC_TEXT_MAX))
		return "'tool_version' is malformed";
	if (strict_time(o, "start", &r->start) < 0 || strict_time(o, "end", &r->end) < 0)
		return "'start' or 'end' is not a time like 2026-11-23T02:15:00Z";
	if (!it || r->start + 3600 < it || r->start > it + REC_SKEW_S)
		return "'start' does not match the time in the snapshot id";
	/* a start in the future is the retention engine's business (docs/retention.md) */
	if (r->end + 3600 < r->start)
		return "'end' is before 'start'";
	if (int_field(o, "duration_ms", REC_SIZE_MAX, &r->duration_ms) < 0 ||
	    int_field(o, "bytes", REC_SIZE_MAX, &r->bytes) < 0 ||
	    int_field(o, "tables", REC_COUNT_MAX, &r->tables) < 0 ||
	    int_field(o, "chunks", REC_COUNT_MAX, &r->chunks) < 0)
		return "'duration_ms', 'bytes', 'tables' or 'chunks' is not a count within bounds";
	if (!status || strcmp(status, "complete") != 0)
		return "'status' is not \"complete\"";
	if (!json_is_boolean(json_object_get(o, "encrypted")) ||
	    !json_is_boolean(json_object_get(o, "passphrase")) || !json_is_array(rc) ||
	    json_array_size(rc) > REC_RECIPIENTS_MAX)
		return "'encrypted', 'passphrase' or 'recipients' is missing or malformed";
	r->encrypted = json_is_true(json_object_get(o, "encrypted"));
	r->passphrase = json_is_true(json_object_get(o, "passphrase"));
	json_array_foreach(rc, i, v)
		if (!valid_recipient(json_string_value(v)))
			return "'recipients' holds something that is not an age1... public key";
	snprintf(want, sizeof(want), "archives/%s.tar%s", id, r->encrypted ? ".age" : "");
	if (!archive || strcmp(archive, want) != 0)
		return "'archive' is not the archive key of this snapshot id";
	if (json_integer_value(json_object_get(o, "version")) >= 2) {
		if (bs_unhex(json_string_value(json_object_get(o, "archive_sha256")), r->archive_sha256, 32) < 0 ||
		    bs_unhex(json_string_value(json_object_get(o, "header_sha256")), r->header_sha256, 32) < 0 ||
		    bs_unhex(json_string_value(json_object_get(o, "schema_sha256")), r->schema_sha256, 32) < 0 ||
		    bs_unhex(json_string_value(json_object_get(o, "manifest_sha256")), r->manifest_sha256, 32) < 0)
			return "'archive_sha256', 'header_sha256', 'schema_sha256' or 'manifest_sha256' is missing "
			       "or not 64 lowercase hex digits";
		r->has_digests = 1;
	}
	return NULL;
}

void bs_snap_record_expect(const struct bs_snap_record *rec, struct bs_archive_expect *x)
{
	bs_archive_expect_init(x);
	x->what = rec->archive;
	x->id = rec->id;
	x->database = rec->database;
	x->tables = (int64_t)rec->tables;
	x->chunks = (int64_t)rec->chunks;
	x->has_digests = rec->has_digests;
	if (rec->has_digests) {
		memcpy(x->archive_sha256, rec->archive_sha256, 32);
		memcpy(x->header_sha256, rec->header_sha256, 32);
		memcpy(x->schema_sha256, rec->schema_sha256, 32);
		memcpy(x->manifest_sha256, rec->manifest_sha256, 32);
		x->bytes = rec->bytes;
	}
}

int bs_snap_record_from_json(struct bs_snap_record *r, const char *buf, size_t len, const char *what,
			     struct bs_err *err)
{
	json_error_t je;
	json_t *o = json_loadb(buf, len, 0, &je), *rc;
	const char *id, *fmt, *why;
	size_t i, nrc;

	bs_snap_record_init(r);
	if (!o)
		return bs_err_set(err, BS_ERR_FORMAT, "catalog record '%s' is not valid JSON: %s (line %d)",
				  what, je.text, je.line);
	fmt = json_string_value(json_object_get(o, "format"));
	id = json_string_value(json_object_get(o, "id"));
	if (!json_is_object(o) || !fmt || strcmp(fmt, "backstop-snapshot-record") != 0) {
		json_decref(o);
		return bs_err_set(err, BS_ERR_FORMAT, "catalog record '%s' is not a snapshot record", what);
	}
	if (!bs_catalog_valid_id(id)) {
		json_decref(o);
		return bs_err_set(err, BS_ERR_FORMAT, "catalog record '%s': 'id' is not a snapshot id", what);
	}
	why = check_fields(o, id, r);
	if (why) {
		json_decref(o);
		bs_snap_record_release(r);
		return bs_err_set(err, BS_ERR_FORMAT, "catalog record '%s': %s", what, why);
	}
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->database = dup_str(o, "database");
	r->server_version = dup_str(o, "server_version");
	r->archive = dup_str(o, "archive");
	r->status = dup_str(o, "status");
	r->tool_version = dup_str(o, "tool_version");
	rc = json_object_get(o, "recipients");
	nrc = json_array_size(rc);
	if (nrc > 0) {
		r->recipients = calloc(nrc, sizeof(char *));
		for (i = 0; r->recipients && i < nrc; i++) {
			char *s = strdup(json_string_value(json_array_get(rc, i)));
			if (s)
				r->recipients[r->nrecipients++] = s;
		}
	}
	json_decref(o);
	if (!r->archive || !r->database || !r->server_version || !r->status ||
	    r->nrecipients != nrc) {
		bs_snap_record_release(r);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	return 0;
}
