/*
 * driver_int.h - the rollback drivers, one file each (drv_*.c), listed in
 * drivers.c's table.
 */
#ifndef BS_RELEASE_DRIVER_INT_H
#define BS_RELEASE_DRIVER_INT_H

#include "release/release.h"

extern const struct bs_release_driver bs_release_driver_compose;
extern const struct bs_release_driver bs_release_driver_registry;
extern const struct bs_release_driver bs_release_driver_exec;

#endif
