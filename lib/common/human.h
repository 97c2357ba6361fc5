/*
 * human.h - sizes and durations for people: "1.5 GiB", "4.2s", "1h02m".
 * Used by every report and listing so they read alike.
 */
#ifndef BS_COMMON_HUMAN_H
#define BS_COMMON_HUMAN_H

#include <stddef.h>
#include <stdint.h>

/* "512 B", "1.5 KiB" ... "2.0 TiB" */
void bs_human_bytes(uint64_t bytes, char *out, size_t n);
/* "4.2s", "3m05s", "1h02m"; a negative value (unknown) is "-" */
void bs_human_ms(int64_t ms, char *out, size_t n);

#endif
