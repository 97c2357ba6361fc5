/*
 * compose_edit.h - read and pin a service's image in a docker compose file,
 * byte-exact.
 *
 * libyaml parses the text; the service's image is found at
 * services.<service>.image, and pinning replaces exactly the bytes of that
 * scalar (not its anchor or tag), so every other byte of the file -
 * comments, key order, anchors, blank lines, CRLF line endings, a missing
 * final newline - is left as it was.  The scalar keeps its style: plain
 * stays plain, 'single' and "double" quoted stay quoted (escaped as the
 * style needs).  The result is parsed again and must read back as the new
 * image, or nothing is returned.
 *
 * Pinning refuses, with BS_ERR_CONFIG "<file>:<line>:<col>: ..." and a
 * hint, what it cannot change without changing something else or guessing:
 *   - invalid YAML, an encoding other than UTF-8, more than one document,
 *     an alias to no anchor, a duplicate key on the way (the top level,
 *     'services', the service);
 *   - no top-level 'services:' mapping; the service not there (the detail
 *     lists the services there); a service without 'image:' (build-only);
 *   - an image that is not this service's own: an alias (image: *ref), an
 *     image inherited through a merge key (<<: *common), an image scalar (or
 *     the service's mapping, or 'services') that an alias elsewhere reuses -
 *     editing it would change other services too;
 *   - an image that is not one line of text: a block scalar (| or >), a
 *     mapping or sequence, an empty value.
 * Reading (bs_compose_image) follows aliases and merge keys, as compose
 * does, and fails only where compose would not know the image either.
 *
 * Nothing here touches a file: the caller reads and writes it.
 */
#ifndef BS_RELEASE_COMPOSE_EDIT_H
#define BS_RELEASE_COMPOSE_EDIT_H

#include <stddef.h>

#include "common/err.h"

/* The largest compose file accepted (text length). */
#define BS_COMPOSE_MAX_BYTES (4u * 1024 * 1024)

/* Pin service's image to new_image in the compose text (len bytes;
 * file_name is used in messages).  On success *out is a new malloc'd,
 * NUL-terminated buffer of *out_len bytes that the caller frees: text with
 * the image scalar's bytes replaced, and nothing else (when the image
 * already reads as new_image, a copy of text).  old_image (old_n bytes, may
 * be NULL/0) receives the image as it was, unescaped, truncated to fit.
 * Errors: BS_ERR_CONFIG as above; BS_ERR_USAGE for a new_image that is not
 * one line of printable text; BS_ERR_NOMEM. */
int bs_compose_pin(const char *text, size_t len, const char *file_name, const char *service,
		   const char *new_image, char **out, size_t *out_len, char *old_image, size_t old_n,
		   struct bs_err *err);

/* The image that services.<service>.image says (through aliases and merge
 * keys), unescaped, into image (n bytes).  BS_ERR_CONFIG as above (an image
 * longer than n - 1 bytes too). */
int bs_compose_image(const char *text, size_t len, const char *file_name, const char *service, char *image,
		     size_t n, struct bs_err *err);

#endif
