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
 */
#ifndef BS_SNAP_INVENTORY_H
#define BS_SNAP_INVENTORY_H

#include <libpq-fe.h>

#include "archive/manifest.h"
#include "common/err.h"

int bs_inventory_collect(PGconn *c, struct bs_manifest *m, struct bs_err *err);

#endif
