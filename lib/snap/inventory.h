/*
 * inventory.h - the schema inventory: (kind, qualified name, md5 of the
 * definition) for every user schema object that matters to an application,
 * computed server-side in one catalog query.
 *
 * snap records it in the manifest; verify-restore runs the same function on
 * the restored database and compares.  Both sides must use a session set up
 * with bs_pg_session_setup (search_path = pg_catalog), because the catalog's
 * deparse functions qualify names relative to the search path.
 *
 * Kinds: schema, extension, type (enum, domain, range, composite), table
 * (ordinary, partitioned, foreign: columns, types, not null, defaults,
 * identity, collation, partitioning, inheritance, RLS), index, constraint
 * (of tables and domains), view, matview, function, procedure, trigger,
 * sequence, policy.  System schemas and extension members are excluded.  Entries are
 * appended to m->inv sorted by kind then name.
 *
 * Versions (m->inv_version, "inventory_version" in manifest.json): 1 hashed
 * definitions cut to 63 bytes (its query's first branch typed the column
 * `name`) and no owners, grants or comments; 2 hashes full definitions and
 * adds owners, grants, comments, column grants and comments, partition
 * parents, table options, replica identity, trigger and rule enable states,
 * rules, event triggers, extended statistics, default privileges, the
 * populated state of materialized views, and lists an index whose build
 * failed as kind "invalid index".  A drill collects the version the
 * snapshot recorded, so snapshots of older backstops still verify.
 */
#ifndef BS_SNAP_INVENTORY_H
#define BS_SNAP_INVENTORY_H

#include <libpq-fe.h>

#include "archive/manifest.h"
#include "common/err.h"

#define BS_INVENTORY_VERSION 2

/* The current version (what snap records). */
int bs_inventory_collect(PGconn *c, struct bs_manifest *m, struct bs_err *err);
/* A given version, 1..BS_INVENTORY_VERSION (else BS_ERR_FORMAT). */
int bs_inventory_collect_version(PGconn *c, struct bs_manifest *m, int version, struct bs_err *err);

#endif
