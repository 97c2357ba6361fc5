/* inventory.c - see inventory.h.  One query; definitions are deparsed and
 * hashed by the server so the result is small whatever the schema's size. */
#include "snap/inventory.h"

#include <stdlib.h>
#include <string.h>

#include "pg/conn.h"

/* Inventory version 1 (snapshots of backstop before 0.2), kept byte for byte
 * so that their digests can still be compared.  Its first branch gives the
 * definition column the type name: every definition was cut to 63 bytes
 * before it was hashed.
 *
 * Tokens replaced by version-dependent SQL:
 *   @PROFILTER@  which pg_proc rows are functions/procedures (no aggregates)
 *   @PROKIND@    'function' or 'procedure'
 *   @ATTGEN@     generated-column marker (PostgreSQL 12+) */
static const char *inv_sql_v1 =
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

/* Inventory version 2: full definitions, plus owners, grants (aclitems
 * sorted, a NULL ACL read as the owner's default, as pg_dump compares),
 * comments, column defaults and NOT NULL, partition bounds, trigger and
 * rule enable states, event triggers, rules, default privileges, extended
 * statistics, the populated state of materialized views, and index
 * validity: an invalid index is listed with kind 'invalid index' (pg_dump
 * does not dump it, so a restore cannot have it). */
#define OWN(o) " || ' owner ' || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(" o "))"
#define ACLS(a) \
	"COALESCE((SELECT pg_catalog.string_agg(x::pg_catalog.text, ',' ORDER BY x::pg_catalog.text)" \
	" FROM pg_catalog.unnest(" a ") x), '')"
#define ACL(a, k, o) " || ' acl ' || " ACLS("COALESCE(" a ", pg_catalog.acldefault('" k "', " o "))")
#define CMT(o, cat, sub) \
	" || COALESCE(' comment ' || (SELECT d.description FROM pg_catalog.pg_description d" \
	" WHERE d.objoid = " o " AND d.classoid = '" cat "'::pg_catalog.regclass AND d.objsubid = " sub "), '')"
#define NOT_EXT(cat, o) \
	" NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = '" cat "'::pg_catalog.regclass" \
	" AND d.objid = " o " AND d.deptype = 'e')"

static const char *inv_sql_v2 =
	"WITH ns AS ("
	" SELECT n.oid, n.nspname, n.nspowner, n.nspacl FROM pg_catalog.pg_namespace n"
	" WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'"
	"  AND" NOT_EXT("pg_catalog.pg_namespace", "n.oid") "),"
	" rel AS ("
	" SELECT c.oid, c.relkind, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity, c.relispartition,"
	"  c.relpartbound, c.relowner, c.relacl, c.reloptions, c.relreplident, c.relispopulated,"
	"  pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS qn"
	" FROM pg_catalog.pg_class c JOIN ns ON ns.oid = c.relnamespace"
	" WHERE c.relpersistence <> 't'"
	"  AND" NOT_EXT("pg_catalog.pg_class", "c.oid") "),"
	" typ AS ("
	" SELECT t.oid, t.typtype, t.typbasetype, t.typtypmod, t.typnotnull, t.typdefault, t.typrelid,"
	"  t.typowner, t.typacl,"
	"  pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(t.typname) AS qn"
	" FROM pg_catalog.pg_type t JOIN ns ON ns.oid = t.typnamespace"
	" WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND"
	"   (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c'))"
	"  AND" NOT_EXT("pg_catalog.pg_type", "t.oid") "),"
	" inv(kind, name, def) AS ("
	/* schemas */
	" SELECT 'schema'::pg_catalog.text, pg_catalog.quote_ident(ns.nspname)::pg_catalog.text,"
	"  ns.nspname::pg_catalog.text" OWN("ns.nspowner") ACL("ns.nspacl", "n", "ns.nspowner")
	CMT("ns.oid", "pg_catalog.pg_namespace", "0") " FROM ns"
	/* extensions: name, version and schema */
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
	OWN("typ.typowner") ACL("typ.typacl", "T", "typ.typowner") CMT("typ.oid", "pg_catalog.pg_type", "0")
	" FROM typ"
	/* tables (ordinary, partitioned, foreign): columns with type, collation,
	 * not null, identity, generation, default, grants and comment;
	 * partitioning, partition bound, inheritance, RLS, options, replica
	 * identity, owner, grants, comment */
	" UNION ALL SELECT 'table', rel.qn,"
	"  rel.relkind::pg_catalog.text || rel.relpersistence::pg_catalog.text"
	"  || CASE WHEN rel.relrowsecurity THEN ' rls' ELSE '' END"
	"  || CASE WHEN rel.relforcerowsecurity THEN ' force rls' ELSE '' END || ' ('"
	"  || COALESCE((SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname) || ' '"
	"   || pg_catalog.format_type(a.atttypid, a.atttypmod)"
	"   || CASE WHEN a.attcollation <> t.typcollation"
	"    THEN ' collate ' || (SELECT pg_catalog.quote_ident(co.collname) FROM pg_catalog.pg_collation co"
	"     WHERE co.oid = a.attcollation) ELSE '' END"
	"   || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END"
	"   || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::pg_catalog.text ELSE '' END"
	"   @ATTGEN@"
	"   || COALESCE(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '')"
	"   || COALESCE(' acl ' || NULLIF(" ACLS("a.attacl") ", ''), '')"
	"   " CMT("rel.oid", "pg_catalog.pg_class", "a.attnum") ","
	"   ', ' ORDER BY a.attnum)"
	"   FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
	"   LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum"
	"   WHERE a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped), '') || ')'"
	"  || CASE WHEN rel.relkind = 'p' THEN ' partition by ' || pg_catalog.pg_get_partkeydef(rel.oid) ELSE '' END"
	"  || CASE WHEN rel.relispartition THEN ' partition of '"
	"   || (SELECT pg_catalog.string_agg(pr.qn, ', ') FROM pg_catalog.pg_inherits i"
	"    JOIN rel pr ON pr.oid = i.inhparent WHERE i.inhrelid = rel.oid)"
	"   || ' ' || pg_catalog.pg_get_expr(rel.relpartbound, rel.oid) ELSE '' END"
	"  || COALESCE(' inherits ' || (SELECT pg_catalog.string_agg(pr.qn, ', ' ORDER BY i.inhseqno)"
	"   FROM pg_catalog.pg_inherits i JOIN rel pr ON pr.oid = i.inhparent"
	"   WHERE i.inhrelid = rel.oid AND NOT rel.relispartition), '')"
	"  || COALESCE(' with ' || pg_catalog.array_to_string(rel.reloptions, ','), '')"
	"  || ' replica identity ' || rel.relreplident::pg_catalog.text"
	OWN("rel.relowner") ACL("rel.relacl", "r", "rel.relowner") CMT("rel.oid", "pg_catalog.pg_class", "0")
	" FROM rel WHERE rel.relkind IN ('r', 'p', 'f')"
	/* indexes; an invalid one (a failed build) under its own kind */
	" UNION ALL SELECT CASE WHEN i.indisvalid AND i.indisready THEN 'index' ELSE 'invalid index' END, ir.qn,"
	"  pg_catalog.pg_get_indexdef(i.indexrelid)"
	"  || CASE WHEN i.indisclustered THEN ' clustered' ELSE '' END"
	"  || CASE WHEN i.indisreplident THEN ' replica identity' ELSE '' END"
	CMT("ir.oid", "pg_catalog.pg_class", "0")
	" FROM pg_catalog.pg_index i JOIN rel tr ON tr.oid = i.indrelid JOIN rel ir ON ir.oid = i.indexrelid"
	/* constraints of tables and of domains */
	" UNION ALL SELECT 'constraint', tr.qn || '.' || pg_catalog.quote_ident(co.conname),"
	"  co.contype::pg_catalog.text || ' ' || pg_catalog.pg_get_constraintdef(co.oid)"
	CMT("co.oid", "pg_catalog.pg_constraint", "0")
	" FROM pg_catalog.pg_constraint co JOIN rel tr ON tr.oid = co.conrelid"
	" UNION ALL SELECT 'constraint', typ.qn || '.' || pg_catalog.quote_ident(co.conname),"
	"  co.contype::pg_catalog.text || ' ' || pg_catalog.pg_get_constraintdef(co.oid)"
	CMT("co.oid", "pg_catalog.pg_constraint", "0")
	" FROM pg_catalog.pg_constraint co JOIN typ ON typ.oid = co.contypid"
	/* views and materialized views: query, options, populated state, column
	 * comments, owner, grants, comment */
	" UNION ALL SELECT CASE rel.relkind WHEN 'v' THEN 'view' ELSE 'matview' END, rel.qn,"
	"  pg_catalog.pg_get_viewdef(rel.oid)"
	"  || COALESCE(' with ' || pg_catalog.array_to_string(rel.reloptions, ','), '')"
	"  || CASE WHEN rel.relkind = 'm' AND NOT rel.relispopulated THEN ' unpopulated' ELSE '' END"
	"  || COALESCE((SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname) || ' comment '"
	"   || d.description, ', ' ORDER BY a.attnum) FROM pg_catalog.pg_attribute a"
	"   JOIN pg_catalog.pg_description d ON d.objoid = a.attrelid AND d.objsubid = a.attnum"
	"    AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass"
	"   WHERE a.attrelid = rel.oid AND a.attnum > 0), '')"
	"  || COALESCE(' acl ' || NULLIF((SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname)"
	"   || ' ' || " ACLS("a.attacl") ", ', ' ORDER BY a.attnum) FROM pg_catalog.pg_attribute a"
	"   WHERE a.attrelid = rel.oid AND a.attnum > 0 AND a.attacl IS NOT NULL), ''), '')"
	OWN("rel.relowner") ACL("rel.relacl", "r", "rel.relowner") CMT("rel.oid", "pg_catalog.pg_class", "0")
	" FROM rel WHERE rel.relkind IN ('v', 'm')"
	/* functions and procedures, identity arguments in the name */
	" UNION ALL SELECT @PROKIND@,"
	"  pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(p.proname) || '('"
	"  || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',"
	"  pg_catalog.pg_get_functiondef(p.oid)"
	OWN("p.proowner") ACL("p.proacl", "f", "p.proowner") CMT("p.oid", "pg_catalog.pg_proc", "0")
	" FROM pg_catalog.pg_proc p JOIN ns ON ns.oid = p.pronamespace"
	" WHERE @PROFILTER@"
	"  AND" NOT_EXT("pg_catalog.pg_proc", "p.oid")
	/* triggers, with their enable state */
	" UNION ALL SELECT 'trigger', tr.qn || '.' || pg_catalog.quote_ident(tg.tgname),"
	"  pg_catalog.pg_get_triggerdef(tg.oid) || ' enabled ' || tg.tgenabled::pg_catalog.text"
	CMT("tg.oid", "pg_catalog.pg_trigger", "0")
	" FROM pg_catalog.pg_trigger tg JOIN rel tr ON tr.oid = tg.tgrelid WHERE NOT tg.tgisinternal"
	/* rules (a view's own _RETURN rule is its query) */
	" UNION ALL SELECT 'rule', tr.qn || '.' || pg_catalog.quote_ident(ru.rulename),"
	"  pg_catalog.pg_get_ruledef(ru.oid) || ' enabled ' || ru.ev_enabled::pg_catalog.text"
	CMT("ru.oid", "pg_catalog.pg_rewrite", "0")
	" FROM pg_catalog.pg_rewrite ru JOIN rel tr ON tr.oid = ru.ev_class WHERE ru.rulename <> '_RETURN'"
	/* event triggers */
	" UNION ALL SELECT 'event trigger', pg_catalog.quote_ident(et.evtname),"
	"  et.evtevent || ' ' || et.evtfoid::pg_catalog.regprocedure::pg_catalog.text"
	"  || COALESCE(' tags ' || pg_catalog.array_to_string(et.evttags, ','), '')"
	"  || ' enabled ' || et.evtenabled::pg_catalog.text"
	OWN("et.evtowner") CMT("et.oid", "pg_catalog.pg_event_trigger", "0")
	" FROM pg_catalog.pg_event_trigger et WHERE" NOT_EXT("pg_catalog.pg_event_trigger", "et.oid")
	/* sequences: parameters, owning column, owner, grants, comment */
	" UNION ALL SELECT 'sequence', rel.qn,"
	"  pg_catalog.format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' increment '"
	"  || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache"
	"  || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END"
	"  || COALESCE((SELECT ' owned by ' || pg_catalog.string_agg(tr.qn || '.'"
	"   || pg_catalog.quote_ident(a.attname), ',') FROM pg_catalog.pg_depend d"
	"   JOIN rel tr ON tr.oid = d.refobjid JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid"
	"    AND a.attnum = d.refobjsubid"
	"   WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = rel.oid"
	"    AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')"
	"    AND d.refobjsubid > 0), '')"
	OWN("rel.relowner") ACL("rel.relacl", "s", "rel.relowner") CMT("rel.oid", "pg_catalog.pg_class", "0")
	" FROM pg_catalog.pg_sequence s JOIN rel ON rel.oid = s.seqrelid"
	/* row level security policies */
	" UNION ALL SELECT 'policy', tr.qn || '.' || pg_catalog.quote_ident(po.polname),"
	"  po.polcmd::pg_catalog.text || CASE WHEN po.polpermissive THEN ' permissive' ELSE ' restrictive' END"
	"  || ' to ' || (SELECT pg_catalog.string_agg(CASE WHEN r = 0 THEN 'public'"
	"   ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r)) END, ',' ORDER BY 1)"
	"   FROM pg_catalog.unnest(po.polroles) r)"
	"  || COALESCE(' using ' || pg_catalog.pg_get_expr(po.polqual, po.polrelid), '')"
	"  || COALESCE(' check ' || pg_catalog.pg_get_expr(po.polwithcheck, po.polrelid), '')"
	CMT("po.oid", "pg_catalog.pg_policy", "0")
	" FROM pg_catalog.pg_policy po JOIN rel tr ON tr.oid = po.polrelid"
	/* extended statistics */
	" UNION ALL SELECT 'statistics', pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(se.stxname),"
	"  pg_catalog.pg_get_statisticsobjdef(se.oid)"
	OWN("se.stxowner") CMT("se.oid", "pg_catalog.pg_statistic_ext", "0")
	" FROM pg_catalog.pg_statistic_ext se JOIN ns ON ns.oid = se.stxnamespace"
	/* default privileges (ALTER DEFAULT PRIVILEGES) */
	" UNION ALL SELECT 'default privileges',"
	"  pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(da.defaclrole)) || ' '"
	"  || COALESCE(pg_catalog.quote_ident(n.nspname), '-') || ' ' || da.defaclobjtype::pg_catalog.text,"
	"  " ACLS("da.defaclacl")
	" FROM pg_catalog.pg_default_acl da LEFT JOIN pg_catalog.pg_namespace n ON n.oid = da.defaclnamespace"
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

int bs_inventory_collect_version(PGconn *c, struct bs_manifest *m, int version, struct bs_err *err)
{
	int v = PQserverVersion(c), i, n;
	char *sql;
	PGresult *r;

	if (version < 1 || version > BS_INVENTORY_VERSION)
		return bs_err_set(err, BS_ERR_FORMAT,
				  "schema inventory version %d is not supported (this backstop knows versions 1 to %d)",
				  version, BS_INVENTORY_VERSION);
	if (v < 100000)
		return bs_err_set(err, BS_ERR_PG, "collecting the schema inventory: PostgreSQL %d is not supported",
				  v / 10000);
	sql = strdup(version == 1 ? inv_sql_v1 : inv_sql_v2);
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
	m->inv_version = version;
	return 0;
}

int bs_inventory_collect(PGconn *c, struct bs_manifest *m, struct bs_err *err)
{
	return bs_inventory_collect_version(c, m, BS_INVENTORY_VERSION, err);
}
