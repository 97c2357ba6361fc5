/* record_test.c - a catalog record is trusted only when every field is sane. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "harness.h"

#define ID "20261123T021500Z-3fa9c1"

static const char *good =
	"{\"format\": \"backstop-snapshot-record\", \"version\": 1, \"id\": \"" ID "\","
	" \"database\": \"app\", \"server_version\": \"15.18\","
	" \"start\": \"2026-11-23T02:15:00Z\", \"end\": \"2026-11-23T02:16:12Z\","
	" \"duration_ms\": 72000, \"bytes\": 123456789,"
	" \"archive\": \"archives/" ID ".tar.age\", \"status\": \"complete\", \"encrypted\": true,"
	" \"recipients\": [\"age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj\"],"
	" \"passphrase\": false, \"tool_version\": \"0.1.0\", \"tables\": 12, \"chunks\": 40,"
	" \"some_future_field\": {\"x\": 1}}";

/* good with one field replaced (value is JSON text) or removed (value NULL) */
static int parse_with(const char *field, const char *value, struct bs_err *err)
{
	json_t *o = json_loads(good, 0, NULL);
	struct bs_snap_record r;
	char *text;
	int rc;

	if (value)
		json_object_set_new(o, field, json_loads(value, JSON_DECODE_ANY, NULL));
	else
		json_object_del(o, field);
	text = json_dumps(o, 0);
	json_decref(o);
	rc = bs_snap_record_from_json(&r, text, strlen(text), "snapshots/" ID ".json", err);
	free(text);
	if (rc == 0)
		bs_snap_record_release(&r);
	return rc;
}

TEST(good_record_is_read)
{
	struct bs_snap_record r;
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(bs_snap_record_from_json(&r, good, strlen(good), "snapshots/" ID ".json", &err), 0);
	CHECK_STR(r.id, ID);
	CHECK_STR(r.database, "app");
	CHECK_STR(r.archive, "archives/" ID ".tar.age");
	CHECK_INT((int)r.nrecipients, 1);
	CHECK(r.encrypted && !r.passphrase);
	CHECK_INT((int)r.tables, 12);
	bs_snap_record_release(&r);
}

static const struct {
	const char *field, *value, *why;
} bad[] = {
	{ "id", "\"20261123T021500Z-3fa9c\"", "'id' is not a snapshot id" },
	{ "id", NULL, "'id' is not a snapshot id" },
	{ "format", "\"backstop-snapshot\"", "is not a snapshot record" },
	{ "version", "3", "'version'" },
	/* version 2 must carry its four digests, well-formed */
	{ "version", "2", "'archive_sha256'" },
	{ "version", "\"1\"", "'version'" },
	{ "database", "\"\"", "'database'" },
	{ "database", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", "'database'" },
	{ "database", "7", "'database'" },
	{ "database", NULL, "'database'" },
	{ "server_version", NULL, "'server_version'" },
	{ "start", "\"2026-11-23\"", "'start' or 'end'" },
	{ "start", "1795400100", "'start' or 'end'" },
	{ "start", "\"2026-11-20T02:15:00Z\"", "does not match the time in the snapshot id" },
	{ "end", "\"2026-11-23T00:00:00Z\"", "'end' is before 'start'" },
	{ "bytes", "-1", "not a count" },
	{ "bytes", "1.5", "not a count" },
	{ "bytes", "\"12\"", "not a count" },
	{ "tables", "4294967296", "not a count" },
	{ "chunks", NULL, "not a count" },
	{ "status", "\"running\"", "'status'" },
	{ "encrypted", "1", "'encrypted'" },
	{ "recipients", "[\"ssh-ed25519 AAAA\"]", "'recipients'" },
	{ "recipients", "\"age1x\"", "'recipients'" },
	{ "archive", "\"archives/20261123T021500Z-3fa9c1.tar\"", "'archive'" },
	{ "archive", "\"archives/20261122T021500Z-000000.tar.age\"", "'archive'" },
	{ "archive", "\"../../etc/passwd\"", "'archive'" },
	{ "archive", NULL, "'archive'" },
};

TEST(malformed_fields_are_refused)
{
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bs_err err;
		bs_err_init(&err);
		if (parse_with(bad[i].field, bad[i].value, &err) == 0) {
			printf("#   accepted: %s = %s\n", bad[i].field, bad[i].value ? bad[i].value : "(none)");
			CHECK(!"a malformed record was accepted");
			continue;
		}
		CHECK_INT(err.code, BS_ERR_FORMAT);
		if (!strstr(err.msg, bad[i].why)) {
			printf("#   %s = %s: '%s' lacks '%s'\n", bad[i].field, bad[i].value ? bad[i].value : "(none)",
			       err.msg, bad[i].why);
			CHECK(!"message names what is wrong");
		}
		CHECK(strstr(err.msg, "snapshots/" ID ".json") != NULL);
	}
}

TEST(written_record_reads_back)
{
	struct bs_snap_record r, r2;
	struct bs_err err;
	char *text;
	size_t len;

	bs_err_init(&err);
	CHECK_INT(bs_snap_record_from_json(&r, good, strlen(good), "x", &err), 0);
	CHECK_INT(bs_snap_record_to_json(&r, &text, &len, &err), 0);
	CHECK_INT(bs_snap_record_from_json(&r2, text, len, "x", &err), 0);
	CHECK_STR(r2.archive, r.archive);
	free(text);
	bs_snap_record_release(&r);
	bs_snap_record_release(&r2);
}


/* A version 2 record carries the digests that bind it to its archive,
 * and they survive a round trip; a malformed one is refused. */
TEST(digests_round_trip)
{
	struct bs_snap_record r, back;
	struct bs_err err;
	char *text = NULL;
	size_t len = 0, i;
	json_t *o;

	bs_err_init(&err);
	CHECK_INT(bs_snap_record_from_json(&r, good, strlen(good), "snapshots/" ID ".json", &err), 0);
	CHECK(!r.has_digests);
	r.has_digests = 1;
	for (i = 0; i < 32; i++) {
		r.archive_sha256[i] = (unsigned char)i;
		r.header_sha256[i] = (unsigned char)(0xff - i);
		r.schema_sha256[i] = (unsigned char)(i * 7);
		r.manifest_sha256[i] = (unsigned char)(i ^ 0x5a);
	}
	CHECK_INT(bs_snap_record_to_json(&r, &text, &len, &err), 0);
	CHECK(strstr(text, "\"version\": 2") != NULL);
	CHECK(strstr(text, "\"archive_sha256\": \"000102030405") != NULL);
	CHECK_INT(bs_snap_record_from_json(&back, text, len, "snapshots/" ID ".json", &err), 0);
	CHECK(back.has_digests);
	CHECK(memcmp(back.archive_sha256, r.archive_sha256, 32) == 0);
	CHECK(memcmp(back.header_sha256, r.header_sha256, 32) == 0);
	CHECK(memcmp(back.schema_sha256, r.schema_sha256, 32) == 0);
	CHECK(memcmp(back.manifest_sha256, r.manifest_sha256, 32) == 0);
	bs_snap_record_release(&back);

	/* an upper-case or short digest is not trusted */
	o = json_loads(text, 0, NULL);
	json_object_set_new(o, "schema_sha256", json_string("ABCDEF"));
	free(text);
	text = json_dumps(o, 0);
	json_decref(o);
	CHECK_INT(bs_snap_record_from_json(&back, text, strlen(text), "snapshots/" ID ".json", &err), -1);
	CHECK(strstr(err.msg, "'schema_sha256'") != NULL);
	free(text);
	bs_snap_record_release(&r);
}

int main(void)
{
	RUN(good_record_is_read);
	RUN(malformed_fields_are_refused);
	RUN(written_record_reads_back);
	RUN(digests_round_trip);
	return DONE();
}
