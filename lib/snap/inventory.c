/* inventory.c - see inventory.h.  One query; definitions are deparsed and
 * hashed by the server so the result is small whatever the schema's size. */
#include "snap/inventory.h"

#include <stdlib.h>
#include <string.h>

#include "pg/conn.h"

/* Tokens replaced by version-dependent SQL:
 *   @PROFILTER@  which pg_proc rows are functions/procedures (no aggregates)
 *   @PROKIND@    'function' or 'procedure'
 *   @ATTGEN@     generated-column marker (PostgreSQL 12+) */
static const char *inv_sql =
	"WITH ns AS ("
	" SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace n"
	" WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'"
	"  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid ="
	"   'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.objid = n.oid AND d.deptype = 'e')),"
	" rel AS ("
	" SELECT c.oid, c.relkind, c.relpersistence, c.relrowsecurity, c.relispartition, c.relpartbound,"
	"  pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS qn"
	" FROM pg_catalog.pg_class c JOIN ns ON ns.oid = c.relnamespace"
	" WHERE c.relpersistence <> 't'"
	"  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid ="
	"   'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'e')),"
	" typ AS ("
	" SELECT t.oid, t.typtype, t.typbasetype, t.typtypmod, t.typnotnull, t.typdefault, t.typrelid,"
	"  pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(t.typname) AS qn"
	" FROM pg_catalog.pg_type t JOIN ns ON ns.oid = t.typnamespace"
	" WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND"
	"   (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c'))"
	"  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid ="
	"   'pg_catalog.pg_type'::pg_catalog.regclass AND d.objid = t.oid AND d.deptype = 'e')),"
	" inv(kind, name, def) AS ("
	/* schemas */
	" SELECT 'schema', pg_catalog.quote_ident(ns.nspname), ns.nspname FROM ns"
	/* extensions: name and version */
	" UNION ALL SELECT 'extension', pg_catalog.quote_ident(e.extname),"
	"  e.extversion || ' ' || n.nspname"
	" FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
	/* types: enums, domains, ranges, composite types */
	" UNION ALL SELECT 'type', typ.qn, CASE typ.typtype"
	"  WHEN 'e' THEN 'enum ' || (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ','"
	"   ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e WHERE e.enumtypid = typ.oid)"
	"  WHEN 'd' THEN 'domain ' || pg_catalog.format_type(typ.typbasetype, typ.typtypmod)"
	"   || CASE WHEN typ.typnotnull THEN ' not null' ELSE '' END"
	"   || COALESCE(' default ' || typ.typdefault, '')"
	"  WHEN 'r' THEN 'range ' || (SELECT pg_catalog.format_type(r.rngsubtype, NULL)"
	"   FROM pg_catalog.pg_range r WHERE r.rngtypid = typ.oid)"
	"  ELSE 'composite ' || (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname) || ' '"
	"   || pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)"
	"   FROM pg_catalog.pg_attribute a WHERE a.attrelid = typ.typrelid AND a.attnum > 0"
	"   AND NOT a.attisdropped) END"
	" FROM typ"
	/* tables (ordinary, partitioned, foreign): columns, types, not null,
	 * defaults, identity, collation, partitioning, inheritance, RLS */
	" UNION ALL SELECT 'table', rel.qn,"
	"  rel.relkind::pg_catalog.text || rel.relpersistence::pg_catalog.text || CASE WHEN rel.relrowsecurity THEN ' rls' ELSE '' END || ' ('"
	"  || COALESCE((SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname) || ' '"
	"   || pg_catalog.format_type(a.atttypid, a.atttypmod)"
	"   || CASE WHEN a.attcollation <> t.typcollation"
	"    THEN ' collate ' || (SELECT pg_catalog.quote_ident(co.collname) FROM pg_catalog.pg_collation co"
	"     WHERE co.oid = a.attcollation) ELSE '' END"
	"   || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END"
	"   || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::pg_catalog.text ELSE '' END"
	"   @ATTGEN@"
	"   || COALESCE(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), ''),"
	"   ', ' ORDER BY a.attnum)"
	"   FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
	"   LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum"
	"   WHERE a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped), '') || ')'"
	"  || CASE WHEN rel.relkind = 'p' THEN ' partition by ' || pg_catalog.pg_get_partkeydef(rel.oid) ELSE '' END"
	"  || CASE WHEN rel.relispartition THEN ' ' || pg_catalog.pg_get_expr(rel.relpartbound, rel.oid) ELSE '' END"
	"  || COALESCE(' inherits ' || (SELECT pg_catalog.string_agg(pr.qn, ', ' ORDER BY i.inhseqno)"
	"   FROM pg_catalog.pg_inherits i JOIN rel pr ON pr.oid = i.inhparent"
	"   WHERE i.inhrelid = rel.oid AND NOT rel.relispartition), '')"
	" FROM rel WHERE rel.relkind IN ('r', 'p', 'f')"
	/* indexes */
	" UNION ALL SELECT 'index', ir.qn, pg_catalog.pg_get_indexdef(i.indexrelid)"
	" FROM pg_catalog.pg_index i JOIN rel tr ON tr.oid = i.indrelid JOIN rel ir ON ir.oid = i.indexrelid"
	/* constraints of tables and of domains */
	" UNION ALL SELECT 'constraint', tr.qn || '.' || pg_catalog.quote_ident(co.conname),"
	"  co.contype::pg_catalog.text || ' ' || pg_catalog.pg_get_constraintdef(co.oid)"
	" FROM pg_catalog.pg_constraint co JOIN rel tr ON tr.oid = co.conrelid"
	" UNION ALL SELECT 'constraint', typ.qn || '.' || pg_catalog.quote_ident(co.conname),"
	"  co.contype::pg_catalog.text || ' ' || pg_catalog.pg_get_constraintdef(co.oid)"
	" FROM pg_catalog.pg_constraint co JOIN typ ON typ.oid = co.contypid"
	/* views and materialized views */
	" UNION ALL SELECT CASE rel.relkind WHEN 'v' THEN 'view' ELSE 'matview' END, rel.qn,"
	"  pg_catalog.pg_get_viewdef(rel.oid)"
	" FROM rel WHERE rel.relkind IN ('v', 'm')"
	/* functions and procedures, identity arguments in the name */
	" UNION ALL SELECT @PROKIND@,"
	"  pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(p.proname) || '('"
	"  || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',"
	"  pg_catalog.pg_get_functiondef(p.oid)"
	" FROM pg_catalog.pg_proc p JOIN ns ON ns.oid = p.pronamespace"
	" WHERE @PROFILTER@"
	"  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid ="
	"   'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid AND d.deptype = 'e')"
	/* triggers */
	" UNION ALL SELECT 'trigger', tr.qn || '.' || pg_catalog.quote_ident(tg.tgname),"
	"  pg_catalog.pg_get_triggerdef(tg.oid)"
	" FROM pg_catalog.pg_trigger tg JOIN rel tr ON tr.oid = tg.tgrelid WHERE NOT tg.tgisinternal"
	/* sequences */
	" UNION ALL SELECT 'sequence', rel.qn,"
	"  pg_catalog.format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' increment '"
	"  || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache"
	"  || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END"
	" FROM pg_catalog.pg_sequence s JOIN rel ON rel.oid = s.seqrelid"
	/* row level security policies */
	" UNION ALL SELECT 'policy', tr.qn || '.' || pg_catalog.quote_ident(po.polname),"
	"  po.polcmd::pg_catalog.text || CASE WHEN po.polpermissive THEN ' permissive' ELSE ' restrictive' END"
	"  || ' to ' || (SELECT pg_catalog.string_agg(CASE WHEN r = 0 THEN 'public'"
	"   ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r)) END, ',' ORDER BY 1)"
	"   FROM pg_catalog.unnest(po.polroles) r)"
	"  || COALESCE(' using ' || pg_catalog.pg_get_expr(po.polqual, po.polrelid), '')"
	"  || COALESCE(' check ' || pg_catalog.pg_get_expr(po.polwithcheck, po.polrelid), '')"
	" FROM pg_catalog.pg_policy po JOIN rel tr ON tr.oid = po.polrelid"
	")"
	" SELECT kind, name, pg_catalog.md5(COALESCE(def, '')) FROM inv"
	" ORDER BY kind COLLATE \"C\", name COLLATE \"C\"";

/* Replace every occurrence of token in *s by val; returns -1 on allocation failure. */
static int replace(char **s, const char *token, const char *val)
{
	char *p;

	while ((p = strstr(*s, token)) != NULL) {
		size_t pre = (size_t)(p - *s), tl = strlen(token), vl = strlen(val);
		char *n = malloc(strlen(*s) - tl + vl + 1);
		if (!n)
			return -1;
		memcpy(n, *s, pre);
		memcpy(n + pre, val, vl);
		strcpy(n + pre + vl, p + tl);
		free(*s);
		*s = n;
	}
	return 0;
}

int bs_inventory_collect(PGconn *c, struct bs_manifest *m, struct bs_err *err)
{
	int v = PQserverVersion(c), i, n;
	char *sql = strdup(inv_sql);
	PGresult *r;

	if (v < 100000)
		return bs_err_set(err, BS_ERR_PG, "collecting the schema inventory: PostgreSQL %d is not supported",
				  v / 10000);
	if (!sql || replace(&sql, "@PROFILTER@", v >= 110000 ? "p.prokind IN ('f', 'p', 'w')" : "NOT p.proisagg") < 0 ||
	    replace(&sql, "@PROKIND@",
		    v >= 110000 ? "CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END" : "'function'") < 0 ||
	    replace(&sql, "@ATTGEN@",
		    v >= 120000 ? "|| CASE WHEN a.attgenerated <> '' THEN ' generated ' || a.attgenerated::pg_catalog.text ELSE '' END"
				: "") < 0) {
		free(sql);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	r = bs_pg_query(c, sql, 0, NULL, err);
	free(sql);
	if (!r)
		return bs_err_prefix(err, "collecting the schema inventory");
	n = PQntuples(r);
	for (i = 0; i < n; i++)
		if (bs_manifest_add_inv(m, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2)) < 0) {
			PQclear(r);
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		}
	PQclear(r);
	return 0;
}
