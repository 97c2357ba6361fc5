/* xml.c - libxml2 behind the few calls object-store responses and JUnit
 * reports need.  See xml.h for the safety rules. */
#include "net/xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct bs_xml {
	xmlDocPtr doc;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void silent(void *ctx, const char *msg, ...)
{
}

static void xml_init(void)
{
	xmlInitParser();
	/* libxml2 must never print: errors are read back from the context */
	xmlSetGenericErrorFunc(NULL, silent);
}

/* SAX hook for <!DOCTYPE ...>: stop before any declaration is read. */
static void refuse_dtd(void *ctx, const xmlChar *name, const xmlChar *ext_id, const xmlChar *sys_id)
{
	xmlParserCtxtPtr ctxt = ctx;

	*(int *)ctxt->_private = 1;
	xmlStopParser(ctxt);
}

struct bs_xml *bs_xml_parse(const char *buf, size_t len, const char *what, struct bs_err *err)
{
	xmlParserCtxtPtr ctxt;
	struct bs_xml *x = NULL;
	xmlDocPtr doc;
	int had_dtd = 0;

	pthread_once(&init_once, xml_init);
	if (!what)
		what = "XML document";
	if (!buf || !len) {
		bs_err_set(err, BS_ERR_FORMAT, "%s is empty", what);
		return NULL;
	}
	if (len > BS_XML_MAX_INPUT) {
		bs_err_set(err, BS_ERR_FORMAT, "%s is too large: %zu bytes (limit %u)", what, len,
			   BS_XML_MAX_INPUT);
		return NULL;
	}
	if (memchr(buf, '\0', len)) {
		/* object stores answer in UTF-8, where NUL has no place; libxml2
		 * would stop reading there and accept what came before */
		bs_err_set(err, BS_ERR_FORMAT, "%s contains a NUL byte", what);
		return NULL;
	}
	ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory parsing %s", what);
		return NULL;
	}
	ctxt->sax->internalSubset = refuse_dtd;
	ctxt->_private = &had_dtd;
	doc =
	    xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
			      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (had_dtd) {
		bs_err_set(err, BS_ERR_FORMAT, "%s carries a document type declaration, which is refused",
			   what);
		bs_err_detail(err, "no document read here needs one; entities are never expanded");
	} else if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);

		bs_err_set(err, BS_ERR_FORMAT, "%s is not well-formed XML", what);
		if (e && e->message)
			bs_err_detail(err, "line %d: %.*s", e->line, (int)strcspn(e->message, "\n"),
				      e->message);
	} else if (!xmlDocGetRootElement(doc)) {
		bs_err_set(err, BS_ERR_FORMAT, "%s has no root element", what);
	} else if (!(x = calloc(1, sizeof(*x)))) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory parsing %s", what);
	} else {
		x->doc = doc;
		doc = NULL;
	}
	if (doc)
		xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return x;
}

void bs_xml_free(struct bs_xml *x)
{
	if (!x)
		return;
	xmlFreeDoc(x->doc);
	free(x);
}

const struct _xmlNode *bs_xml_root(const struct bs_xml *x)
{
	return x ? xmlDocGetRootElement(x->doc) : NULL;
}

const char *bs_xml_name(const struct _xmlNode *n)
{
	return n && n->type == XML_ELEMENT_NODE ? (const char *)n->name : NULL;
}

static int name_is(const xmlNode *n, const char *name, size_t len)
{
	return n->type == XML_ELEMENT_NODE && strlen((const char *)n->name) == len &&
	       memcmp(n->name, name, len) == 0;
}

const struct _xmlNode *bs_xml_child(const struct _xmlNode *n, const char *path)
{
	while (n && path && *path) {
		size_t len = strcspn(path, "/");
		const xmlNode *c;

		for (c = n->children; c && !name_is(c, path, len); c = c->next)
			;
		n = c;
		path += len;
		if (*path == '/')
			path++;
	}
	return n;
}

const struct _xmlNode *bs_xml_next(const struct _xmlNode *n, const char *name)
{
	size_t len = name ? strlen(name) : 0;

	for (n = n ? n->next : NULL; n; n = n->next)
		if (name ? name_is(n, name, len) : n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

const struct _xmlNode *bs_xml_first(const struct _xmlNode *n)
{
	for (n = n ? n->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

/* The content of n (an element or an attribute) into out: see bs_xml_text. */
static long content(const xmlNode *n, char *out, size_t outsz)
{
	xmlChar *text = xmlNodeGetContent(n);
	size_t len;

	if (!text)
		return 0;
	len = strlen((const char *)text);
	if (outsz) {
		size_t k = len < outsz ? len : outsz - 1;

		memcpy(out, text, k);
		out[k] = '\0';
	}
	xmlFree(text);
	return len > LONG_MAX ? LONG_MAX : (long)len;
}

long bs_xml_text(const struct _xmlNode *n, const char *path, char *out, size_t outsz)
{
	if (outsz)
		out[0] = '\0';
	n = bs_xml_child(n, path);
	if (!n)
		return -1;
	return content(n, out, outsz);
}

long bs_xml_attr(const struct _xmlNode *n, const char *name, char *out, size_t outsz)
{
	const xmlAttr *a;

	if (outsz)
		out[0] = '\0';
	if (!n || n->type != XML_ELEMENT_NODE)
		return -1;
	for (a = n->properties; a; a = a->next)
		if (strcmp((const char *)a->name, name) == 0)
			return content((const xmlNode *)a, out, outsz);
	return -1;
}

int bs_xml_error_parse(const char *body, size_t len, struct bs_xml_error *out, struct bs_err *err)
{
	struct bs_xml *x;
	const struct _xmlNode *root;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	x = bs_xml_parse(body, len, "error response", err);
	if (!x)
		return -1;
	root = bs_xml_root(x);
	if (strcmp(bs_xml_name(root), "Error") != 0) {
		rc = bs_err_set(err, BS_ERR_FORMAT, "error response has root element '%.64s', not 'Error'",
				bs_xml_name(root));
	} else {
		bs_xml_text(root, "Code", out->code, sizeof(out->code));
		bs_xml_text(root, "Message", out->message, sizeof(out->message));
		bs_xml_text(root, "RequestId", out->request_id, sizeof(out->request_id));
	}
	bs_xml_free(x);
	return rc;
}
