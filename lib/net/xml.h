/*
 * xml.h - reading the XML that object stores answer with (S3 and Azure
 * errors, bucket and container listings) and the JUnit reports a gate
 * reads (gate/junit_in.c), through libxml2.  Never by hand.
 *
 *   struct bs_xml *x = bs_xml_parse(res.body, res.body_len, "S3 listing", &err);
 *   const struct _xmlNode *root = bs_xml_root(x);          (ListBucketResult)
 *   for (n = bs_xml_child(root, "Contents"); n; n = bs_xml_next(n, "Contents"))
 *           bs_xml_text(n, "Key", key, sizeof(key));
 *   bs_xml_text(root, "IsTruncated", buf, sizeof(buf));
 *   bs_xml_free(x);
 *
 * Elements are found by local name, ignoring namespaces (S3 puts its
 * listings in xmlns="http://s3.amazonaws.com/doc/2006-03-01/", Azure uses
 * none); only element children count, text and comments are skipped.  A
 * name may be a path of local names: "Properties/Content-Length".
 *
 * Safety: input is bounded (BS_XML_MAX_INPUT) and UTF-8 (a NUL byte is
 * refused: libxml2 would silently stop there); the network is never used
 * (XML_PARSE_NONET); a document type declaration is refused outright, so
 * no entity is ever declared, expanded or fetched (billion laughs, XXE);
 * libxml2 prints nothing (its errors go into struct bs_err).
 *
 * Ownership: struct bs_xml owns the document; node pointers are borrowed
 * from it and die with bs_xml_free.  bs_xml_text copies into the caller's
 * buffer.
 */
#ifndef BS_NET_XML_H
#define BS_NET_XML_H

#include <stddef.h>

#include "common/err.h"

#define BS_XML_MAX_INPUT (16u << 20)

struct bs_xml;
struct _xmlNode; /* libxml2's node; callers need not include libxml2 */

/* Parse len bytes of buf.  what names the document in messages ("S3 error
 * response").  Returns NULL with err set (BS_ERR_FORMAT) for malformed,
 * oversized or DTD-carrying input. */
struct bs_xml *bs_xml_parse(const char *buf, size_t len, const char *what, struct bs_err *err);
void bs_xml_free(struct bs_xml *x);

const struct _xmlNode *bs_xml_root(const struct bs_xml *x);
/* Local name of an element node. */
const char *bs_xml_name(const struct _xmlNode *n);

/* First element child of n named path ("A" or "A/B/C"), or NULL. */
const struct _xmlNode *bs_xml_child(const struct _xmlNode *n, const char *path);
/* Next element sibling of n with local name name (NULL: any name), or
 * NULL. */
const struct _xmlNode *bs_xml_next(const struct _xmlNode *n, const char *name);
/* First element child of n whatever its name, or NULL.  With
 * bs_xml_next(c, NULL) it walks every element child in document order:
 *   for (c = bs_xml_first(n); c; c = bs_xml_next(c, NULL)) */
const struct _xmlNode *bs_xml_first(const struct _xmlNode *n);

/* Text of the element at path under n (path NULL or "": n itself) into
 * out (NUL-terminated).  Returns the full length of the text (>= outsz
 * means it was truncated), or -1 when there is no such element. */
long bs_xml_text(const struct _xmlNode *n, const char *path, char *out, size_t outsz);

/* Value of the attribute of element n with local name name (namespaces
 * ignored, as for elements) into out, as bs_xml_text: the full length, or
 * -1 when n has no such attribute (out is then ""). */
long bs_xml_attr(const struct _xmlNode *n, const char *name, char *out, size_t outsz);

/* The error document of S3 (<Error><Code/><Message/><RequestId/></Error>)
 * or Azure Blob (<Error><Code/><Message/></Error>, the request id inside
 * the message).  Fields that are absent are empty strings. */
struct bs_xml_error {
	char code[128];
	char message[1024];
	char request_id[128];
};

/* Read an error body.  Returns 0 when body is such an <Error> document,
 * -1 with err set otherwise (not XML, or another root element). */
int bs_xml_error_parse(const char *body, size_t len, struct bs_xml_error *out, struct bs_err *err);

#endif
