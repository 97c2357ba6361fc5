/* record.c - snapshot records <-> JSON, ids and times (catalog.h) */
#include <ctype.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/catalog.h"

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
		*out = timegm(&tm);
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
	json_object_set_new(o, "version", json_integer(1));
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

int bs_snap_record_from_json(struct bs_snap_record *r, const char *buf, size_t len, const char *what,
			     struct bs_err *err)
{
	json_error_t je;
	json_t *o = json_loadb(buf, len, 0, &je), *rc;
	const char *id, *fmt;
	size_t i;

	bs_snap_record_init(r);
	if (!o)
		return bs_err_set(err, BS_ERR_FORMAT, "catalog record '%s' is not valid JSON: %s (line %d)",
				  what, je.text, je.line);
	fmt = json_string_value(json_object_get(o, "format"));
	id = json_string_value(json_object_get(o, "id"));
	if (!fmt || strcmp(fmt, "backstop-snapshot-record") != 0 || !bs_catalog_valid_id(id)) {
		json_decref(o);
		return bs_err_set(err, BS_ERR_FORMAT, "catalog record '%s' is not a snapshot record", what);
	}
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->database = dup_str(o, "database");
	r->server_version = dup_str(o, "server_version");
	bs_time_parse(json_string_value(json_object_get(o, "start")), &r->start);
	bs_time_parse(json_string_value(json_object_get(o, "end")), &r->end);
	r->duration_ms = (uint64_t)json_integer_value(json_object_get(o, "duration_ms"));
	r->bytes = (uint64_t)json_integer_value(json_object_get(o, "bytes"));
	r->archive = dup_str(o, "archive");
	r->status = dup_str(o, "status");
	r->encrypted = json_is_true(json_object_get(o, "encrypted"));
	r->passphrase = json_is_true(json_object_get(o, "passphrase"));
	r->tool_version = dup_str(o, "tool_version");
	r->tables = (uint64_t)json_integer_value(json_object_get(o, "tables"));
	r->chunks = (uint64_t)json_integer_value(json_object_get(o, "chunks"));
	rc = json_object_get(o, "recipients");
	if (json_is_array(rc) && json_array_size(rc) > 0) {
		r->recipients = calloc(json_array_size(rc), sizeof(char *));
		for (i = 0; r->recipients && i < json_array_size(rc); i++) {
			const char *s = json_string_value(json_array_get(rc, i));
			if (s)
				r->recipients[r->nrecipients++] = strdup(s);
		}
	}
	json_decref(o);
	if (!r->archive || !r->database) {
		bs_snap_record_release(r);
		return bs_err_set(err, BS_ERR_FORMAT, "catalog record '%s' lacks 'archive' or 'database'", what);
	}
	return 0;
}
