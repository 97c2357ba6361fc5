/*
 * drivers.c - the table of rollback drivers (release.h).  A new driver is
 * one file (drv_<name>.c) and one row here.
 */
#include "release/driver_int.h"

#include <stddef.h>

static const struct {
	int kind;
	const struct bs_release_driver *drv;
} table[] = {
	{ BS_DRIVER_COMPOSE, &bs_release_driver_compose },
	{ BS_DRIVER_REGISTRY, &bs_release_driver_registry },
	{ BS_DRIVER_EXEC, &bs_release_driver_exec },
};

const struct bs_release_driver *bs_release_driver_get(int kind)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].kind == kind)
			return table[i].drv;
	return NULL;
}

const char *bs_release_driver_name(int kind)
{
	const struct bs_release_driver *d = bs_release_driver_get(kind);
	return d ? d->name : "?";
}
