/* select_test.c - table filters and TOC selection (lib/restore/select.c) */
#include "harness.h"

#include <stdlib.h>

#include "restore/select.h"

/* `pg_restore -l -v` of a schema with a serial and an identity column, a
 * partitioned table, a view, a materialized view, a trigger function, a
 * foreign key, a comment and an ACL. */
static const char toc_text[] =
	";\n"
	"; Selected TOC Entries:\n"
	";\n"
	"3396; 0 0 ENCODING - ENCODING \n"
	"3397; 0 0 STDSTRINGS - STDSTRINGS \n"
	"3398; 0 0 SEARCHPATH - SEARCHPATH \n"
	"3399; 1262 16388 DATABASE - rich postgres\n"
	"6; 2615 16389 SCHEMA - app postgres\n"
	"3500; 0 0 COMMENT - SCHEMA app postgres\n"
	";\tdepends on: 6\n"
	"7; 2615 16600 SCHEMA - other postgres\n"
	"849; 1247 16391 TYPE app mood postgres\n"
	";\tdepends on: 6\n"
	"852; 1247 16398 DOMAIN app posint postgres\n"
	";\tdepends on: 6\n"
	"226; 1255 16442 FUNCTION app trg() postgres\n"
	";\tdepends on: 6\n"
	"227; 1255 16443 FUNCTION other f() postgres\n"
	";\tdepends on: 7\n"
	"225; 1259 16453 SEQUENCE app free_seq postgres\n"
	";\tdepends on: 6\n"
	"218; 1259 16414 TABLE app orders postgres\n"
	";\tdepends on: 6\n"
	"228; 1259 16460 SEQUENCE app invoice_no postgres\n"
	";\tdepends on: 6\n"
	"229; 1259 16461 TABLE app invoices postgres\n"
	";\tdepends on: 228 6\n"
	"221; 1259 16436 MATERIALIZED VIEW app mv postgres\n"
	";\tdepends on: 218 218 6\n"
	"217; 1259 16413 SEQUENCE app orders_id_seq postgres\n"
	";\tdepends on: 6 218\n"
	"222; 1259 16444 TABLE app parted postgres\n"
	";\tdepends on: 6\n"
	"223; 1259 16447 TABLE app parted_2024 postgres\n"
	";\tdepends on: 6 222\n"
	"224; 1259 16450 TABLE app parted_2025 postgres\n"
	";\tdepends on: 222 6\n"
	"216; 1259 16401 TABLE app users postgres\n"
	";\tdepends on: 6 852 849\n"
	"3400; 0 0 COMMENT app TABLE users postgres\n"
	";\tdepends on: 216\n"
	"3401; 0 0 ACL app TABLE users postgres\n"
	";\tdepends on: 216\n"
	"215; 1259 16400 SEQUENCE app users_id_seq postgres\n"
	";\tdepends on: 6 216\n"
	"3402; 0 0 SEQUENCE OWNED BY app users_id_seq postgres\n"
	";\tdepends on: 215\n"
	"220; 1259 16432 VIEW app v_orders postgres\n"
	";\tdepends on: 216 218 218 216 6\n"
	"219; 1259 16427 TABLE public Weird Name postgres\n"
	"3236; 0 0 TABLE ATTACH app parted_2024 postgres\n"
	";\tdepends on: 223 222\n"
	"3237; 0 0 TABLE ATTACH app parted_2025 postgres\n"
	";\tdepends on: 224 222\n"
	"3238; 2604 16404 DEFAULT app users id postgres\n"
	";\tdepends on: 216 215 216\n"
	"3239; 2604 16405 DEFAULT app orders note postgres\n"
	";\tdepends on: 218 225\n"
	"3246; 2606 16420 CONSTRAINT app orders orders_pkey postgres\n"
	";\tdepends on: 218\n"
	"3242; 2606 16412 CONSTRAINT app users users_name_key postgres\n"
	";\tdepends on: 216\n"
	"3244; 2606 16410 CONSTRAINT app users users_pkey postgres\n"
	";\tdepends on: 216\n"
	"3247; 1259 16426 INDEX app orders_user_idx postgres\n"
	";\tdepends on: 218\n"
	"3249; 2620 16443 TRIGGER app orders t postgres\n"
	";\tdepends on: 226 218\n"
	"3248; 2606 16421 FK CONSTRAINT app orders orders_user_id_fkey postgres\n"
	";\tdepends on: 3244 216 218\n";

static struct bs_toc toc;

static int load_toc(void)
{
	struct bs_err err;

	bs_err_init(&err);
	bs_toc_release(&toc);
	bs_toc_init(&toc);
	return bs_toc_parse(&toc, toc_text, sizeof(toc_text) - 1, &err);
}

static int kept(int id)
{
	size_t i;

	for (i = 0; i < toc.n; i++)
		if (toc.e[i].id == id)
			return toc.e[i].keep;
	return -1;
}

static void select_specs(const char *const *specs, int clean)
{
	struct bs_rfilter f[8];
	struct bs_err err;
	size_t n = 0;

	bs_err_init(&err);
	CHECK(load_toc() == 0);
	for (; specs[n]; n++)
		CHECK(bs_rfilter_parse(specs[n], &f[n], &err) == 0);
	bs_toc_select(&toc, f, n, clean);
	for (size_t i = 0; i < n; i++)
		bs_rfilter_release(&f[i]);
}

TEST(filter_parse)
{
	struct bs_rfilter f;
	struct bs_err err;

	bs_err_init(&err);
	CHECK(bs_rfilter_parse("accounts", &f, &err) == 0);
	CHECK(f.schema == NULL);
	CHECK_STR(f.name, "accounts");
	bs_rfilter_release(&f);

	CHECK(bs_rfilter_parse("Public.Accounts", &f, &err) == 0);
	CHECK_STR(f.schema, "public");
	CHECK_STR(f.name, "accounts");
	bs_rfilter_release(&f);

	CHECK(bs_rfilter_parse("\"My Schema\".\"Tab.le\"", &f, &err) == 0);
	CHECK_STR(f.schema, "My Schema");
	CHECK_STR(f.name, "Tab.le");
	bs_rfilter_release(&f);

	CHECK(bs_rfilter_parse("\"a\"\"b\"", &f, &err) == 0);
	CHECK(f.schema == NULL);
	CHECK_STR(f.name, "a\"b");
	bs_rfilter_release(&f);

	CHECK(bs_rfilter_parse("app.\"Users\"", &f, &err) == 0);
	CHECK_STR(f.schema, "app");
	CHECK_STR(f.name, "Users");
	bs_rfilter_release(&f);
}

TEST(filter_parse_errors)
{
	static const char *bad[] = { "", ".x", "x.", "a.b.c", "\"open", "\"\".x", "a\"b\"", "x..y", NULL };
	struct bs_rfilter f;
	struct bs_err err;
	int i;

	for (i = 0; bad[i]; i++) {
		bs_err_init(&err);
		CHECK(bs_rfilter_parse(bad[i], &f, &err) == -1);
		CHECK_INT(err.code, BS_ERR_USAGE);
		CHECK(strstr(err.msg, "invalid table name") != NULL);
	}
}

TEST(filter_match)
{
	struct bs_rfilter f[2];
	struct bs_err err;

	bs_err_init(&err);
	CHECK(bs_rfilter_parse("accounts", &f[0], &err) == 0);
	CHECK(bs_rfilter_parse("app.users", &f[1], &err) == 0);
	CHECK(bs_rfilter_match(f, 2, "public", "accounts") == 1);
	CHECK(bs_rfilter_match(f, 2, "billing", "accounts") == 1);
	CHECK(bs_rfilter_match(f, 2, "app", "users") == 1);
	CHECK(bs_rfilter_match(f, 2, "public", "users") == 0);
	CHECK(bs_rfilter_match(f, 2, "public", "Accounts") == 0);
	CHECK(f[0].matched && f[1].matched);
	bs_rfilter_release(&f[0]);
	bs_rfilter_release(&f[1]);
}

TEST(toc_parse)
{
	CHECK(load_toc() == 0);
	CHECK_INT(toc.n, 37);
	CHECK_INT(toc.e[0].id, 3396);
	CHECK_INT(toc.e[0].kind, BS_TOC_ALWAYS);
	CHECK_STR(toc.e[11].desc, "SEQUENCE");
	CHECK_STR(toc.e[11].rest, "app free_seq postgres");
	CHECK_STR(toc.e[15].desc, "MATERIALIZED VIEW");
	CHECK_INT(toc.e[15].kind, BS_TOC_RELATION);
	CHECK_INT(toc.e[15].ndeps, 3);
	CHECK(bs_toc_entry_is(&toc.e[12], "app", "orders"));
	CHECK(!bs_toc_entry_is(&toc.e[12], "app", "order"));
	CHECK(!bs_toc_entry_is(&toc.e[12], "ap", "orders"));
	/* multi-word descriptions */
	CHECK_STR(toc.e[toc.n - 1].desc, "FK CONSTRAINT");
	CHECK_STR(toc.e[toc.n - 1].rest, "app orders orders_user_id_fkey postgres");
	CHECK_INT(toc.e[toc.n - 1].ndeps, 3);
}

TEST(toc_parse_rejects_garbage)
{
	struct bs_toc t;
	struct bs_err err;
	static const char bad[] = "12; x y TABLE a b c\n";

	bs_err_init(&err);
	bs_toc_init(&t);
	CHECK(bs_toc_parse(&t, bad, sizeof(bad) - 1, &err) == -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	bs_toc_release(&t);
}

TEST(toc_select_one_table)
{
	static const char *specs[] = { "app.users", NULL };

	select_specs(specs, 0);
	CHECK_INT(kept(3396), 1);  /* ENCODING */
	CHECK_INT(kept(216), 1);   /* the table */
	CHECK_INT(kept(6), 1);     /* its schema */
	CHECK_INT(kept(3500), 1);  /* the schema's comment */
	CHECK_INT(kept(849), 1);   /* a type it uses */
	CHECK_INT(kept(852), 1);   /* a domain it uses */
	CHECK_INT(kept(3400), 1);  /* comment */
	CHECK_INT(kept(3401), 1);  /* ACL */
	CHECK_INT(kept(215), 1);   /* serial sequence */
	CHECK_INT(kept(3402), 1);  /* ... owned by */
	CHECK_INT(kept(3238), 1);  /* default nextval */
	CHECK_INT(kept(3242), 1);  /* unique */
	CHECK_INT(kept(3244), 1);  /* pkey */
	CHECK_INT(kept(218), 0);   /* other table */
	CHECK_INT(kept(3248), 0);  /* FK from the other table */
	CHECK_INT(kept(220), 0);   /* view over both */
	CHECK_INT(kept(226), 0);   /* trigger function of the other table */
	CHECK_INT(kept(7), 0);     /* unrelated schema */
	CHECK_INT(kept(227), 0);
	CHECK_INT(kept(3399), 0);  /* DATABASE */
	CHECK_INT(kept(219), 0);
}

TEST(toc_select_fk_needs_both_ends)
{
	static const char *specs[] = { "app.users", "orders", NULL };

	select_specs(specs, 0);
	CHECK_INT(kept(218), 1);
	CHECK_INT(kept(217), 1);   /* identity sequence */
	CHECK_INT(kept(3248), 1);  /* FK: both tables kept */
	CHECK_INT(kept(3249), 1);  /* trigger */
	CHECK_INT(kept(226), 1);   /* ... pulls its function */
	CHECK_INT(kept(3239), 1);  /* default using a free-standing sequence */
	CHECK_INT(kept(225), 1);   /* ... pulls the sequence */
	CHECK_INT(kept(3247), 1);
	CHECK_INT(kept(221), 0);   /* matview not named */
	CHECK_INT(kept(220), 0);
}

TEST(toc_select_default_in_create_table)
{
	static const char *specs[] = { "app.invoices", NULL };

	select_specs(specs, 1);
	CHECK_INT(kept(229), 1);
	CHECK_INT(kept(228), 1);   /* DEFAULT nextval() inside CREATE TABLE */
	CHECK_INT(kept(6), 0);
	CHECK_INT(kept(225), 0);
}

TEST(toc_select_partitions)
{
	static const char *specs[] = { "app.parted", NULL };

	select_specs(specs, 0);
	CHECK_INT(kept(222), 1);
	CHECK_INT(kept(223), 1);
	CHECK_INT(kept(224), 1);
	CHECK_INT(kept(3236), 1);
	CHECK_INT(kept(3237), 1);
	CHECK_INT(kept(216), 0);
}

TEST(toc_select_clean_keeps_no_supporting_objects)
{
	static const char *specs[] = { "app.orders", NULL };

	select_specs(specs, 1);
	CHECK_INT(kept(218), 1);
	CHECK_INT(kept(3249), 1);  /* trigger kept ... */
	CHECK_INT(kept(226), 0);   /* ... but its function must exist */
	CHECK_INT(kept(6), 0);     /* no DROP SCHEMA */
	CHECK_INT(kept(3239), 1);
	CHECK_INT(kept(225), 1);   /* the default's sequence is restored */
	CHECK_INT(kept(3398), 1);
	CHECK_INT(kept(3248), 1);  /* its FK to app.users, which the target has */
	CHECK_INT(kept(216), 0);
	CHECK_INT(kept(3244), 0);
}

TEST(toc_select_clean_partition_reattached)
{
	static const char *specs[] = { "app.parted_2024", NULL };

	select_specs(specs, 1);
	CHECK_INT(kept(223), 1);
	CHECK_INT(kept(3236), 1);  /* attached to the parent the target has */
	CHECK_INT(kept(222), 0);
	CHECK_INT(kept(3237), 0);
	select_specs(specs, 0);
	CHECK_INT(kept(3236), 0);  /* no parent in an empty target */
}

TEST(toc_select_view_and_quoted)
{
	static const char *specs[] = { "app.v_orders", "public.\"Weird Name\"", NULL };

	select_specs(specs, 0);
	CHECK_INT(kept(220), 1);
	CHECK_INT(kept(219), 1);
	CHECK_INT(kept(216), 0);
	CHECK_INT(kept(6), 1);
}

TEST(toc_list)
{
	static const char *specs[] = { "app.parted", NULL };
	size_t len = 0;
	char *l;

	select_specs(specs, 1);
	l = bs_toc_list(&toc, &len);
	CHECK(l != NULL);
	CHECK_STR(l, "3396; 0 0 ENCODING - ENCODING \n"
		     "3397; 0 0 STDSTRINGS - STDSTRINGS \n"
		     "3398; 0 0 SEARCHPATH - SEARCHPATH \n"
		     "222; 1259 16444 TABLE app parted postgres\n"
		     "223; 1259 16447 TABLE app parted_2024 postgres\n"
		     "224; 1259 16450 TABLE app parted_2025 postgres\n"
		     "3236; 0 0 TABLE ATTACH app parted_2024 postgres\n"
		     "3237; 0 0 TABLE ATTACH app parted_2025 postgres\n");
	CHECK_INT(len, strlen(l));
	free(l);
}

TEST(toc_filter_marks_matched)
{
	struct bs_rfilter f[2];
	struct bs_err err;

	bs_err_init(&err);
	CHECK(load_toc() == 0);
	CHECK(bs_rfilter_parse("mv", &f[0], &err) == 0);
	CHECK(bs_rfilter_parse("nosuch", &f[1], &err) == 0);
	bs_toc_select(&toc, f, 2, 0);
	CHECK(f[0].matched);
	CHECK(!f[1].matched);
	CHECK_INT(kept(221), 1);
	bs_rfilter_release(&f[0]);
	bs_rfilter_release(&f[1]);
}

int main(void)
{
	bs_toc_init(&toc);
	RUN(filter_parse);
	RUN(filter_parse_errors);
	RUN(filter_match);
	RUN(toc_parse);
	RUN(toc_parse_rejects_garbage);
	RUN(toc_select_one_table);
	RUN(toc_select_fk_needs_both_ends);
	RUN(toc_select_default_in_create_table);
	RUN(toc_select_partitions);
	RUN(toc_select_clean_keeps_no_supporting_objects);
	RUN(toc_select_clean_partition_reattached);
	RUN(toc_select_view_and_quoted);
	RUN(toc_list);
	RUN(toc_filter_marks_matched);
	bs_toc_release(&toc);
	return DONE();
}
