#!/usr/bin/env bash
# dr_restore.sh - disaster-recovery restores: onto a second, freshly
# initialised cluster (roles and tablespaces from the snapshot, the
# database's locale, provider, settings, comment, grants, connection limit),
# as a non-superuser with --no-owner --no-privileges, --globals-only, a
# SQL_ASCII/C database, and archives of format version 1.
. "$(dirname "$0")/lib.sh"

REPO=$BS_TMP/repo
SUF=$$
R_OWNER=dr_owner_$SUF
R_REP=reporting_$SUF
R_SET=dr_set_$SUF
R_USER=dr_user_$SUF
R_ASCII=dr_ascii_$SUF
R_NOSU=dr_restorer_$SUF
SRC=dr_src_$SUF
ASC=dr_ascii_db_$SUF

# ---------------------------------------------------------------- clusters

# Cluster A is the harness's; cluster B is started here (pg_second_start),
# its environment kept in B_* and used through on_b.
A_HOST=$PGHOST A_PORT=$PGPORT

drop_roles_a() {
	local r
	for r in "$R_NOSU" "$R_USER" "$R_SET" "$R_REP" "$R_ASCII" "$R_OWNER"; do
		PGHOST=$A_HOST PGPORT=$A_PORT "$BS_PGBIN/psql" -X -q -d postgres \
			-c "drop owned by \"$r\" cascade" -c "drop role if exists \"$r\"" >/dev/null 2>&1
	done
}
bs_on_exit drop_roles_a

start_b() { pg_second_start "$BS_TMP/pgb"; }

# on_b CMD..: run CMD against cluster B.
on_b() { PGHOST=$B_HOST PGPORT=$B_PORT "$@"; }
b_conninfo() { printf 'host=%s port=%s user=%s dbname=%s' "$B_HOST" "$B_PORT" "${2:-postgres}" "$1"; }

# The database-level properties, one line each.
db_props() {
	pg postgres "select datname, datlocprovider, coalesce(daticulocale, '-'), datcollate, datctype,
	                    pg_encoding_to_char(encoding), datconnlimit, pg_get_userbyid(datdba),
	                    coalesce(datacl::text, '-'), coalesce(shobj_description(oid, 'pg_database'), '-')
	               from pg_database where datname = '$1'"
	pg postgres "select coalesce(pg_get_userbyid(s.setrole), '-') || ' ' || s.setconfig::text
	               from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase
	              where d.datname = '$1' order by 1"
}

# pg_dump --create with privileges, without the version lines.
dump_create() {
	"$BS_PGBIN/pg_dump" --create --no-sync -d "$1" |
		grep -v -E '^(-- (Dumped (from|by)|Started on|Completed on)|\\(un)?restrict )'
}

ICU=0
setup() {
	if [ "$(pg postgres "select count(*) > 0 from pg_collation where collprovider = 'i'")" = t ]; then
		ICU=1
	fi
	pg postgres "create role \"$R_OWNER\" login createdb connection limit 7;
	             create role \"$R_REP\" nologin;
	             create role \"$R_SET\" login valid until '2099-01-01 00:00:00+00';
	             create role \"$R_USER\" login;
	             create role \"$R_ASCII\" login;
	             comment on role \"$R_REP\" is 'read-only reporting';
	             alter role \"$R_SET\" set search_path = app, \"My Schema\";
	             grant \"$R_REP\" to \"$R_USER\";
	             alter role \"$R_OWNER\" password 'secret-$SUF'" || return 1
	local loc="locale 'C.UTF-8'"
	if [ "$ICU" = 1 ]; then
		loc="locale_provider icu icu_locale 'de-DE' locale 'C.UTF-8'"
	fi
	drop_db "$SRC"
	bs_on_exit drop_db "$SRC"
	pg postgres "create database \"$SRC\" owner \"$R_OWNER\" template template0 encoding 'UTF8' $loc" || return 1
	pg postgres "alter database \"$SRC\" set work_mem = '8MB';
	             alter database \"$SRC\" set search_path = app, public;
	             alter database \"$SRC\" connection limit 42;
	             alter role \"$R_SET\" in database \"$SRC\" set statement_timeout = '5min';
	             comment on database \"$SRC\" is 'disaster recovery source';
	             revoke connect, temporary on database \"$SRC\" from public;
	             grant connect on database \"$SRC\" to \"$R_REP\";
	             grant temporary on database \"$SRC\" to \"$R_SET\"" || return 1
	PGUSER=$R_OWNER pg "$SRC" "create schema app;
	     create table app.accounts (id serial primary key, owner text not null, balance numeric(12,2) default 0);
	     insert into app.accounts (owner, balance) select 'o' || g, g * 1.5 from generate_series(1, 500) g;
	     create table app.ledger (id bigint generated always as identity primary key,
	                              account int references app.accounts(id), note text);
	     insert into app.ledger (account, note) select g, 'n' || g from generate_series(1, 200) g;
	     create view app.rich as select * from app.accounts where balance > 100;
	     create materialized view app.totals as select count(*) n, sum(balance) s from app.accounts;
	     grant usage on schema app to \"$R_REP\";
	     grant select on app.accounts, app.rich to \"$R_REP\";
	     grant select (id, note) on app.ledger to \"$R_REP\";
	     alter default privileges in schema app grant select on tables to \"$R_REP\";
	     comment on table app.accounts is 'the accounts'" || return 1
	drop_db "$ASC"
	bs_on_exit drop_db "$ASC"
	pg postgres "create database \"$ASC\" owner \"$R_ASCII\" template template0 encoding 'SQL_ASCII' locale 'C'" || return 1
	PGUSER=$R_ASCII pg "$ASC" "create table bytes (id int primary key, raw text);
	     insert into bytes values (1, E'caf\\xe9'), (2, E'\\xff\\xfe ascii')" || return 1
	bs repo init --repo "$REPO" -q || return 1
	SNAP_SRC=$(bs snap -q --no-encryption -r "$REPO" -d "$SRC") || return 1
	SNAP_ASC=$(bs snap -q --no-encryption -r "$REPO" -d "$ASC") || return 1
	start_b
}
if ! setup; then
	echo "Bail out! setup failed"
	exit 1
fi

# ------------------------------------------------------------------ tests

t_new_cluster() {
	local tb
	run_cmd bs restore "$SNAP_SRC" -r "$REPO" -d "$(b_conninfo "$SRC")" --create
	expect_exit 0 || return
	expect_stderr_contains "created role \"$R_REP\""
	check "the restored database's properties equal the source's (provider, ICU locale, collate, encoding, connection limit, owner, ACL, comment, settings)" \
		[ "$(db_props "$SRC")" = "$(on_b db_props "$SRC")" ]
	if [ "$(db_props "$SRC")" != "$(on_b db_props "$SRC")" ]; then
		diag "source:   $(db_props "$SRC")" "restored: $(on_b db_props "$SRC")"
	fi
	if [ "$ICU" = 1 ]; then
		check_eq "restored as ICU de-DE" "$(on_b pg postgres "select datlocprovider::text || ' ' || daticulocale from pg_database where datname = '$SRC'")" "i de-DE"
	fi
	dump_create "$SRC" >"$BS_TMP/a.sql"
	on_b dump_create "$SRC" >"$BS_TMP/b.sql"
	check "pg_dump --create (with privileges and data) of source and restored database are identical" \
		cmp -s "$BS_TMP/a.sql" "$BS_TMP/b.sql"
	cmp -s "$BS_TMP/a.sql" "$BS_TMP/b.sql" || diag "$(diff "$BS_TMP/a.sql" "$BS_TMP/b.sql" | head -30)"
	check_eq "roles created with their attributes" \
		"$(on_b pg postgres "select string_agg(rolname || ' ' || rolcanlogin || ' ' || rolcreatedb || ' ' || rolconnlimit, '|' order by rolname)
		                     from pg_roles where rolname in ('$R_OWNER', '$R_REP', '$R_SET')")" \
		"$R_OWNER true true 7|$R_SET true false -1|$R_REP false false -1"
	check_eq "membership, role comment and role settings come along" \
		"$(on_b pg postgres "select pg_has_role('$R_USER', '$R_REP', 'MEMBER') || '|' || shobj_description(r.oid, 'pg_authid')
		                     || '|' || (select setconfig::text from pg_db_role_setting where setrole = s.oid and setdatabase = 0)
		                     from pg_roles r, pg_roles s where r.rolname = '$R_REP' and s.rolname = '$R_SET'")" \
		"$(pg postgres "select pg_has_role('$R_USER', '$R_REP', 'MEMBER') || '|' || shobj_description(r.oid, 'pg_authid')
		                     || '|' || (select setconfig::text from pg_db_role_setting where setrole = s.oid and setdatabase = 0)
		                     from pg_roles r, pg_roles s where r.rolname = '$R_REP' and s.rolname = '$R_SET'")"
	check_eq "passwords are not captured by default" \
		"$(on_b pg postgres "select coalesce(rolpassword, 'none') from pg_authid where rolname = '$R_OWNER'")" none
}
run_test "restore --create onto a fresh cluster: roles created, database properties and pg_dump --create equal" t_new_cluster

t_existing_roles_untouched() {
	on_b pg postgres "alter role \"$R_REP\" connection limit 3" || return
	run_cmd bs restore "$SNAP_SRC" -r "$REPO" -d "$(b_conninfo "${SRC}_2")" --create
	expect_exit 0 || return
	on_b drop_db "${SRC}_2"
	check_eq "an existing role is not altered" \
		"$(on_b pg postgres "select rolconnlimit from pg_roles where rolname = '$R_REP'")" 3
	on_b pg postgres "alter role \"$R_REP\" connection limit -1"
}
run_test "restore --create under another name, roles existing: restored, roles left as they are" t_existing_roles_untouched

t_non_superuser() {
	local t=${SRC}_nosu
	on_b pg postgres "create role \"$R_NOSU\" login createdb" || return
	run_cmd bs restore "$SNAP_SRC" -r "$REPO" -d "$(b_conninfo "$t" "$R_NOSU")" --create
	expect_exit 2
	expect_stderr_contains "--no-owner"
	expect_stderr_contains "--no-privileges"
	check "nothing was created" [ "$(on_b pg postgres "select count(*) from pg_database where datname = '$t'")" = 0 ]
	run_cmd bs restore "$SNAP_SRC" -r "$REPO" -d "$(b_conninfo "$t" "$R_NOSU")" --create --no-owner --no-privileges
	expect_exit 0 || return
	check_eq "rows restored" "$(on_b pg "$t" "select count(*) from app.accounts")" 500
	check_eq "objects and database owned by the restoring user" \
		"$(on_b pg "$t" "select pg_get_userbyid(relowner) || ' ' || (select pg_get_userbyid(datdba) from pg_database where datname = current_database()) from pg_class where oid = 'app.accounts'::regclass")" \
		"$R_NOSU $R_NOSU"
	check_eq "no grants restored" \
		"$(on_b pg "$t" "select coalesce(relacl::text, '-') from pg_class where oid = 'app.accounts'::regclass")" "-"
	check_eq "database locale and connection limit still restored" "$(on_b db_props "$t" | sed -n 1p | cut -d'|' -f2-7)" \
		"$(db_props "$SRC" | sed -n 1p | cut -d'|' -f2-7)"
	on_b drop_db "$t"
}
run_test "as a non-superuser (CREATEDB only): refused naming --no-owner --no-privileges, then restored with them" t_non_superuser

t_globals_only() {
	run_cmd bs restore "$SNAP_ASC" -r "$REPO" --globals-only
	expect_exit 0 || return
	expect_stdout_contains "CREATE ROLE \"$R_ASCII\" WITH NOSUPERUSER"
	check "nothing created on the server by printing" \
		[ "$(on_b pg postgres "select count(*) from pg_roles where rolname = '$R_ASCII'")" = 0 ]
	run_cmd bs restore "$SNAP_ASC" -r "$REPO" --globals-only -d "$(b_conninfo postgres)"
	expect_exit 0 || return
	check_eq "--globals-only -d creates the missing role" \
		"$(on_b pg postgres "select rolcanlogin from pg_roles where rolname = '$R_ASCII'")" t
	run_cmd bs restore "$SNAP_ASC" -r "$REPO" --globals-only --create
	expect_exit 2
}
run_test "--globals-only prints the roles as SQL; with -d creates the missing ones" t_globals_only

t_sql_ascii() {
	run_cmd bs restore "$SNAP_ASC" -r "$REPO" -d "$(b_conninfo "$ASC")" --create
	expect_exit 0 || return
	check_eq "SQL_ASCII / C comes back as SQL_ASCII / C" \
		"$(on_b pg postgres "select pg_encoding_to_char(encoding) || ' ' || datcollate || ' ' || datctype from pg_database where datname = '$ASC'")" \
		"SQL_ASCII C C"
	check_eq "bytes intact" "$(on_b pg "$ASC" "select md5(string_agg(raw, ',' order by id)) from bytes")" \
		"$(pg "$ASC" "select md5(string_agg(raw, ',' order by id)) from bytes")"
}
run_test "a SQL_ASCII / C database comes back as SQL_ASCII / C" t_sql_ascii

t_passwords() {
	local id
	cat >"$BS_TMP/pw.yaml" <<-EOF
		snap:
		  role_passwords: true
	EOF
	id=$(bs snap -q --no-encryption --config "$BS_TMP/pw.yaml" -r "$REPO" -d "$SRC") || { t_fail "snap failed"; return; }
	run_cmd bs restore "$id" -r "$REPO" --globals-only
	expect_exit 0 || return
	expect_stdout_contains "PASSWORD 'SCRAM-SHA-256\$"
}
run_test "snap.role_passwords: true captures password hashes (superuser snapping)" t_passwords

# An archive as backstop wrote it before globals.json (format version 1):
# the same snapshot with globals.json removed and version 1 in its JSON,
# under a version 1 record (no digests: docs/format.md, "Binding").
t_old_archive() {
	local id d old
	id=$(bs snap -q --no-encryption -r "$REPO" -d "$ASC") || { t_fail "snap failed"; return; }
	d=$BS_TMP/old
	mkdir -p "$d/x"
	tar -xf "$REPO/archives/$id.tar" -C "$d/x" || { t_fail "untar"; return; }
	for f in backstop.json manifest.json; do
		python3 - "$d/x/$f" <<-'EOF'
			import json, sys
			p = sys.argv[1]; j = json.load(open(p)); j["version"] = 1; j.pop("globals", None); j.pop("members", None)
			open(p, "w").write(json.dumps(j, indent=1) + "\n")
		EOF
	done
	(cd "$d/x" && tar --format=pax -cf "$d/old.tar" backstop.json schema.dump $(tar -tf "$REPO/archives/$id.tar" | grep -E '^(data|blobs)/') manifest.json) ||
		{ t_fail "tar"; return; }
	cp "$d/old.tar" "$REPO/archives/$id.tar"
	old=$(stat -c %s "$d/old.tar")
	# and its record as backstop wrote it then: version 1, no digests
	python3 - "$REPO/snapshots/$id.json" "$old" <<-'EOF'
		import json, sys
		p = sys.argv[1]; j = json.load(open(p)); j["bytes"] = int(sys.argv[2]); j["version"] = 1
		for k in ("archive_sha256", "header_sha256", "schema_sha256", "manifest_sha256"):
		    j.pop(k, None)
		open(p, "w").write(json.dumps(j, indent=1) + "\n")
	EOF
	run_cmd bs restore "$id" -r "$REPO" -d "${ASC}_old" --create
	bs_on_exit drop_db "${ASC}_old"
	expect_exit 0 || return
	check_eq "restored from a version 1 archive" "$(pg "${ASC}_old" "select count(*) from bytes")" 2
	run_cmd bs verify-restore "$id" -r "$REPO" --scratch "$(db_conninfo postgres)"
	expect_exit 0
	run_cmd bs restore "$id" -r "$REPO" --globals-only
	expect_exit 2
	expect_stderr_contains "holds no roles"
}
run_test "an archive of format version 1 (no globals.json) still restores and verifies" t_old_archive

t_role_and_nonsuperuser_snap() {
	local t=${SRC}_role id
	run_cmd bs restore "$SNAP_SRC" -r "$REPO" -d "$(b_conninfo "$t")" --create --role "$R_OWNER" --no-owner --no-privileges
	expect_exit 0 || return
	check_eq "--role: the database and its objects belong to the role" \
		"$(on_b pg "$t" "select pg_get_userbyid(relowner) || ' ' || (select pg_get_userbyid(datdba) from pg_database where datname = current_database()) from pg_class where oid = 'app.accounts'::regclass")" \
		"$R_OWNER $R_OWNER"
	on_b drop_db "$t"
	# a snapshot taken by the database's (non-superuser) owner still carries
	# the roles, without passwords even when asked for
	printf 'snap:\n  role_passwords: true\n' >"$BS_TMP/pw2.yaml"
	run_cmd env PGUSER="$R_OWNER" "$BS_BIN/backstop" snap -q --no-encryption --config "$BS_TMP/pw2.yaml" -r "$REPO" -d "$SRC"
	expect_exit 0 || return
	expect_stderr_contains "role passwords are not captured"
	id=$(head -n 1 "$OUT_FILE")
	run_cmd bs restore "$id" -r "$REPO" --globals-only
	expect_exit 0
	expect_stdout_contains "CREATE ROLE \"$R_REP\""
	check "no password in it" sh -c "! grep -q PASSWORD '$OUT_FILE'"
}
run_test "--role runs the restore as that role; a non-superuser's snapshot carries roles but no passwords" t_role_and_nonsuperuser_snap

# A tiny extension with configuration data (pg_extension_config_dump): a
# table registered with a filter, one without, and a sequence.  Installed
# into the server's extension directory (needs root, as the harness runs).
EXT=bs_drtest_$SUF
EXTDB=dr_ext_$SUF
remove_ext_files() {
	rm -f "$EXTDIR/$EXT.control" "$EXTDIR/$EXT--1.0.sql"
}
t_extension_config() {
	EXTDIR=$("$BS_PGBIN/pg_config" --sharedir 2>/dev/null)/extension
	if [ ! -w "$EXTDIR" ]; then
		t_skip "cannot write to $EXTDIR (run as root)"
		return
	fi
	bs_on_exit remove_ext_files
	printf "comment = 'backstop test extension'\ndefault_version = '1.0'\nrelocatable = true\n" >"$EXTDIR/$EXT.control"
	cat >"$EXTDIR/$EXT--1.0.sql" <<-'EOF'
		CREATE TABLE ext_cfg (id int PRIMARY KEY, name text NOT NULL, standard boolean NOT NULL DEFAULT false);
		INSERT INTO ext_cfg VALUES (1, 'shipped with the extension', true);
		SELECT pg_catalog.pg_extension_config_dump('ext_cfg', 'WHERE NOT standard');
		CREATE SEQUENCE ext_job_seq;
		CREATE TABLE ext_jobs (id bigint PRIMARY KEY DEFAULT nextval('ext_job_seq'), command text);
		SELECT pg_catalog.pg_extension_config_dump('ext_jobs', '');
		SELECT pg_catalog.pg_extension_config_dump('ext_job_seq', '');
	EOF
	drop_db "$EXTDB"
	bs_on_exit drop_db "$EXTDB"
	pg postgres "create database \"$EXTDB\"" || return
	pg "$EXTDB" "create extension $EXT;
	             insert into ext_cfg values (2, 'user row', false), (3, 'another', false);
	             insert into ext_jobs (command) select 'job ' || g from generate_series(1, 5) g;
	             select setval('ext_job_seq', 40)" >/dev/null || return
	local id
	id=$(bs snap -q --no-encryption -r "$REPO" -d "$EXTDB") || { t_fail "snap failed"; return; }
	run_cmd bs restore "$id" -r "$REPO" --list --json
	expect_exit 0 || return
	check_eq "the manifest lists the configuration tables, the filtered one with its user rows only" \
		"$(python3 -c 'import json,sys; t={x["name"]: x["rows"] for x in json.load(open(sys.argv[1]))["tables"]}; print(t.get("ext_cfg"), t.get("ext_jobs"))' "$OUT_FILE")" \
		"2 5"
	run_cmd bs restore "$id" -r "$REPO" -d "$(b_conninfo "$EXTDB")" --create
	expect_exit 0 || return
	check_eq "the configuration table: the extension's row and the user's (filtered) rows" \
		"$(on_b pg "$EXTDB" "select string_agg(id || ':' || name || ':' || standard, ',' order by id) from ext_cfg")" \
		"1:shipped with the extension:true,2:user row:false,3:another:false"
	check_eq "the unfiltered configuration table" \
		"$(on_b pg "$EXTDB" "select count(*) || ' ' || max(id) from ext_jobs")" "5 5"
	check_eq "the configuration sequence" \
		"$(on_b pg "$EXTDB" "select last_value || ' ' || is_called from ext_job_seq")" "40 true"
	run_cmd bs verify-restore "$id" -r "$REPO" --scratch "$(db_conninfo postgres)"
	expect_exit 0
	# the drill checks those rows: an extension that now inserts a row its
	# filter selects makes the restored table differ from the manifest
	echo "INSERT INTO ext_cfg VALUES (4, 'new in the extension', false);" >>"$EXTDIR/$EXT--1.0.sql"
	run_cmd bs verify-restore "$id" -r "$REPO" --scratch "$(db_conninfo postgres)"
	expect_exit 1
	expect_stdout_contains "ext_cfg"
}
run_test "extension configuration tables (with their filter) and sequences are snapped, restored and drilled" t_extension_config

done_testing
