/*
 * imgref.c - image references, with Docker's grammar (distribution/reference):
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [ host "/" ] component ( "/" component )*
 *   host       := the first component, when it holds '.' or ':' or is
 *                 "localhost": [A-Za-z0-9.-]+ [ ":" port ]
 *   component  := [a-z0-9]+ ( separator [a-z0-9]+ )*
 *   separator  := "." | "_" | "__" | "-"+
 *   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest     := "sha256:" 64 lowercase hex digits (the only algorithm
 *                 registries use for manifests; others are refused)
 *
 * Without a host the registry is Docker Hub ("docker.io"), where one-part
 * paths live under "library/".  "index.docker.io" and
 * "registry-1.docker.io" are spelled "docker.io".
 */
#include "release/release.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define NAME_MAX_LEN 255

int bs_digest_ok(const char *s)
{
	if (!s || strncmp(s, "sha256:", 7) != 0)
		return 0;
	s += 7;
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component of len bytes; NULL when it is valid, else why not. */
static const char *component_bad(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0)
		return "has an empty path component";
	for (size_t k = 0; k < len; k++)
		if (isupper((unsigned char)s[k]))
			return "must be lowercase";
	if (!is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
		return "has a path component that does not start and end with a letter or digit";
	while (i < len) {
		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		/* a separator: ".", "_", "__" or "-"+, then a letter or digit */
		if (s[i] == '.' || s[i] == '_') {
			size_t n = (s[i] == '_' && i + 1 < len && s[i + 1] == '_') ? 2 : 1;
			i += n;
		} else if (s[i] == '-') {
			while (i < len && s[i] == '-')
				i++;
		} else {
			return "has a character not allowed in a repository path (a-z, 0-9, '.', '_', '-')";
		}
		if (i >= len || !is_lower_alnum(s[i]))
			return "has a separator ('.', '_', '__', '-') that is not between letters or digits";
	}
	return NULL;
}

static int host_ok(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0)
		return 0;
	while (i < len && s[i] != ':') {
		char c = s[i];
		if (!(isalnum((unsigned char)c) || c == '.' || c == '-'))
			return 0;
		i++;
	}
	if (i == 0 || s[0] == '.' || s[0] == '-' || s[i - 1] == '.' || s[i - 1] == '-')
		return 0;
	if (i < len) {
		/* ":port" */
		size_t p = ++i;
		if (p == len || len - p > 5)
			return 0;
		for (; i < len; i++)
			if (!isdigit((unsigned char)s[i]))
				return 0;
	}
	return 1;
}

static int tag_ok(const char *s, size_t len)
{
	if (len == 0 || len > 128)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int ok = isalnum((unsigned char)c) || c == '_' || (i > 0 && (c == '.' || c == '-'));
		if (!ok)
			return 0;
	}
	return 1;
}

int bs_image_ref_parse(const char *ref, struct bs_image_ref *out, struct bs_err *err)
{
	const char *at, *name_end, *colon, *p, *first_end;
	size_t name_len, host_len;
	char path[sizeof(out->path) + 16];
	size_t plen = 0;

	memset(out, 0, sizeof(*out));
	if (!ref || !*ref)
		return bs_err_set(err, BS_ERR_USAGE, "empty image reference");
	if (strlen(ref) >= BS_IMAGE_MAX)
		return bs_err_set(err, BS_ERR_USAGE,
				  "image reference '%.40s...' is too long (the limit is %d bytes)", ref,
				  BS_IMAGE_MAX - 1);
	for (p = ref; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return bs_err_set(
			    err, BS_ERR_USAGE,
			    "image reference '%s' holds a space or a character that is not printable ASCII",
			    ref);

	/* @digest */
	at = strchr(ref, '@');
	name_end = at ? at : ref + strlen(ref);
	if (at) {
		const char *d = at + 1, *dc = strchr(d, ':');

		if (!dc || dc == d)
			return bs_err_set(err, BS_ERR_USAGE,
					  "image reference '%s' has a malformed digest '%s' (expected "
					  "sha256:<64 hex digits>)",
					  ref, d);
		if ((size_t)(dc - d) != 6 || strncmp(d, "sha256", 6) != 0)
			return bs_err_set(
			    err, BS_ERR_USAGE,
			    "image reference '%s' has a digest of algorithm '%.*s': only sha256 is supported",
			    ref, (int)(dc - d), d);
		if (!bs_digest_ok(d))
			return bs_err_set(
			    err, BS_ERR_USAGE,
			    "image reference '%s' has a malformed digest '%s' (expected sha256: and 64 "
			    "lowercase hex digits)",
			    ref, d);
		snprintf(out->digest, sizeof(out->digest), "%s", d);
	}

	/* :tag - the last ':' after the last '/' of the name */
	colon = NULL;
	for (p = ref; p < name_end; p++) {
		if (*p == '/')
			colon = NULL;
		else if (*p == ':')
			colon = p;
	}
	if (colon) {
		size_t tlen = (size_t)(name_end - colon - 1);

		if (!tag_ok(colon + 1, tlen))
			return bs_err_set(
			    err, BS_ERR_USAGE,
			    "image reference '%s' has an invalid tag '%.*s' (a tag is 1 to 128 of A-Z a-z "
			    "0-9 _ . -, not starting with '.' or '-')",
			    ref, (int)tlen, colon + 1);
		memcpy(out->tag, colon + 1, tlen);
		out->tag[tlen] = '\0';
		name_end = colon;
	}
	name_len = (size_t)(name_end - ref);
	if (name_len == 0)
		return bs_err_set(err, BS_ERR_USAGE, "image reference '%s' has no repository name", ref);

	/* host: the first component when it looks like one */
	first_end = memchr(ref, '/', name_len);
	host_len = 0;
	if (first_end) {
		size_t flen = (size_t)(first_end - ref);

		if (memchr(ref, '.', flen) || memchr(ref, ':', flen) ||
		    (flen == 9 && !strncmp(ref, "localhost", 9))) {
			if (!host_ok(ref, flen))
				return bs_err_set(err, BS_ERR_USAGE,
						  "image reference '%s' has an invalid registry host '%.*s'",
						  ref, (int)flen, ref);
			host_len = flen;
		}
	}
	if (host_len) {
		if (host_len >= sizeof(out->host))
			return bs_err_set(err, BS_ERR_USAGE,
					  "image reference '%s' has a registry host that is too long", ref);
		memcpy(out->host, ref, host_len);
		out->host[host_len] = '\0';
		if (!strcmp(out->host, "index.docker.io") || !strcmp(out->host, "registry-1.docker.io"))
			strcpy(out->host, "docker.io");
		p = ref + host_len + 1;
	} else {
		strcpy(out->host, "docker.io");
		p = ref;
	}

	/* the path, component by component */
	while (p <= name_end) {
		const char *e = memchr(p, '/', (size_t)(name_end - p));
		const char *why;
		size_t clen;

		if (!e)
			e = name_end;
		clen = (size_t)(e - p);
		why = component_bad(p, clen);
		if (why)
			return bs_err_set(err, BS_ERR_USAGE,
					  "image reference '%s': the repository path '%.*s' %s", ref,
					  (int)(name_end - (ref + (host_len ? host_len + 1 : 0))),
					  ref + (host_len ? host_len + 1 : 0), why);
		if (plen + clen + 1 >= sizeof(path))
			return bs_err_set(err, BS_ERR_USAGE,
					  "image reference '%s': the name is longer than %d characters", ref,
					  NAME_MAX_LEN);
		memcpy(path + plen, p, clen);
		plen += clen;
		path[plen++] = '/';
		p = e + 1;
		if (e == name_end)
			break;
	}
	path[plen ? plen - 1 : 0] = '\0';
	if (!strcmp(out->host, "docker.io") && !strchr(path, '/')) {
		if (plen + 8 >= sizeof(path))
			return bs_err_set(err, BS_ERR_USAGE, "image reference '%s' is too long", ref);
		memmove(path + 8, path, strlen(path) + 1);
		memcpy(path, "library/", 8);
	}
	if (strlen(out->host) + 1 + strlen(path) > NAME_MAX_LEN || strlen(path) >= sizeof(out->path))
		return bs_err_set(err, BS_ERR_USAGE,
				  "image reference '%s': the name is longer than %d characters", ref,
				  NAME_MAX_LEN);
	snprintf(out->path, sizeof(out->path), "%s", path);
	return 0;
}

void bs_image_ref_repo(const struct bs_image_ref *r, char *buf, size_t n)
{
	if (n)
		snprintf(buf, n, "%s/%s", r->host, r->path);
}
