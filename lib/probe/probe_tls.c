/* probe_tls.c - the tls probe: a handshake that keeps the certificates the
 * server sent (no verification by libcurl, nothing sent over it), then
 * verification and expiry here with OpenSSL, so each failure is named:
 * expired, expiring, wrong host name, untrusted, a chain that expires
 * before its leaf. */
#include "probe/probe_int.h"

#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int probe_tls_start(struct probe_run *r, struct bs_err *err)
{
	const struct bs_probe *p = r->p;

	if (probe_endpoint_url(r, "https", err) < 0)
		return -1;
	if (p->servername && strcmp(p->servername, p->host) != 0) {
		/* SNI and the name verified are servername; the address is host */
		free(r->url);
		if (asprintf(&r->url, "https://%s:%d/", p->servername, p->port) < 0 ||
		    asprintf(&r->connect_to, "%s:%d:%s:%d", p->servername, p->port, p->host, p->port) < 0) {
			r->url = NULL;
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		}
		r->req.url = r->url;
		r->req.connect_to = r->connect_to;
	}
	r->req.connect_only = 1;
	r->req.inspect_tls = 1;
	return 0;
}

static time_t asn1_time_t(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

static void date_text(time_t t, char *buf, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%d", &tm);
}

static void subject_cn(X509 *x, char *buf, size_t n)
{
	X509_NAME *nm = X509_get_subject_name(x);
	int i = nm ? X509_NAME_get_index_by_NID(nm, NID_commonName, -1) : -1;
	ASN1_STRING *s = i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i)) : NULL;
	unsigned char *u = NULL;

	if (s && ASN1_STRING_to_UTF8(&u, s) >= 0) {
		snprintf(buf, n, "%s", (char *)u);
		OPENSSL_free(u);
	} else {
		X509_NAME_oneline(nm, buf, (int)n);
	}
}

/* The DNS and IP names of the leaf, for a host name mismatch message. */
static void san_list(X509 *x, char *buf, size_t n)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && off < n; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_DNS)
			off += (size_t)snprintf(buf + off, n - off, "%s%s", off ? ", " : "",
						(const char *)ASN1_STRING_get0_data(g->d.dNSName));
		else if (g->type == GEN_IPADD && ASN1_STRING_length(g->d.iPAddress) == 4) {
			const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);
			off += (size_t)snprintf(buf + off, n - off, "%s%u.%u.%u.%u", off ? ", " : "", a[0], a[1], a[2],
						a[3]);
		}
	}
	GENERAL_NAMES_free(gens);
	if (!buf[0])
		subject_cn(x, buf, n);
}

static X509 *pem_cert(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return x;
}

static double days_left(time_t t, time_t now)
{
	return (double)(t - now) / 86400.0;
}

/* Verify leaf with the untrusted certificates sent; returns the X509_V_*
 * result and leaves the chain built (possibly partial) in *chain_out. */
static int verify(const struct bs_probe *p, X509 *leaf, STACK_OF(X509) *sent, STACK_OF(X509) **chain_out,
		  int *depth)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	const char *name = p->servername ? p->servername : p->host;
	int rc = X509_V_ERR_UNSPECIFIED;

	*chain_out = NULL;
	*depth = 0;
	if (!store || !ctx)
		goto out;
	if (p->ca_file ? X509_STORE_load_file(store, p->ca_file) != 1 : X509_STORE_set_default_paths(store) != 1)
		goto out;
	if (X509_STORE_CTX_init(ctx, store, leaf, sent) != 1)
		goto out;
	if (p->verify_hostname) {
		X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, name) != 1)
			X509_VERIFY_PARAM_set1_host(vp, name, 0);
	}
	rc = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
	*depth = X509_STORE_CTX_get_error_depth(ctx);
	*chain_out = X509_STORE_CTX_get1_chain(ctx);
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

void probe_tls_judge(struct probe_run *r)
{
	const struct bs_probe *p = r->p;
	const struct bs_http_result *res = &r->req.res;
	struct bs_probe_result *out = r->res;
	STACK_OF(X509) *sent = sk_X509_new_null(), *chain = NULL;
	X509 *leaf = NULL, *weak = NULL;
	time_t now = time(NULL), leaf_end, chain_end = 0;
	char took[32], d1[16], d2[16], exp[96], obs[96], who[128], names[256];
	int vr, depth, i;

	out->t_connect = res->timing.connect;
	out->t_tls = res->timing.tls;
	out->t_total = res->timing.total;
	probe_secs(res->timing.total > 0 ? res->timing.total : out->seconds, took, sizeof(took));
	if (!res->ok) {
		if (res->err.code == BS_ERR_INTERRUPTED)
			probe_set_result(r, BS_STATE_UNKNOWN, NULL, NULL, "interrupted");
		else if (res->curl_code == CURLE_OPERATION_TIMEDOUT)
			probe_timed_out(r, "no TLS handshake");
		else
			probe_set_result(r, BS_STATE_FAIL, "handshake", curl_easy_strerror((CURLcode)res->curl_code),
					 "no TLS handshake with %s:%d: %s after %s", p->host, p->port,
					 curl_easy_strerror((CURLcode)res->curl_code), took);
		goto out;
	}
	for (size_t k = 0; sent && k < res->ncerts; k++) {
		X509 *x = pem_cert(res->certs[k]);
		if (!x)
			continue;
		if (!leaf)
			leaf = x;
		else
			sk_X509_push(sent, x);
	}
	if (!leaf || !sent) {
		probe_set_result(r, BS_STATE_UNKNOWN, NULL, NULL, "%s:%d sent no certificate that could be read", p->host,
				 p->port);
		goto out;
	}
	leaf_end = asn1_time_t(X509_get0_notAfter(leaf));
	out->tls_leaf_expiry = leaf_end;
	out->tls_leaf_days = days_left(leaf_end, now);
	vr = verify(p, leaf, sent, &chain, &depth);
	/* the chain's earliest expiry: what was built, else what was sent */
	for (i = 1; i < (chain ? sk_X509_num(chain) : 0) || (!chain && i - 1 < sk_X509_num(sent)); i++) {
		X509 *x = chain ? sk_X509_value(chain, i) : sk_X509_value(sent, i - 1);
		time_t t = asn1_time_t(X509_get0_notAfter(x));
		if (t && (!chain_end || t < chain_end)) {
			chain_end = t;
			weak = x;
		}
	}
	if (chain_end) {
		out->tls_chain_expiry = chain_end;
		out->tls_chain_days = days_left(chain_end, now);
	}
	date_text(leaf_end, d1, sizeof(d1));
	snprintf(exp, sizeof(exp), "at least %d days", p->crit_days);
	snprintf(obs, sizeof(obs), "%.0f days", out->tls_leaf_days);
	if (leaf_end <= now) {
		probe_set_result(r, BS_STATE_FAIL, "not expired", "expired",
				 "leaf certificate expired %.0f day%s ago (notAfter %s)", -out->tls_leaf_days,
				 -out->tls_leaf_days >= 0.5 && -out->tls_leaf_days < 1.5 ? "" : "s", d1);
		goto out;
	}
	if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH) {
		san_list(leaf, names, sizeof(names));
		probe_set_result(r, BS_STATE_FAIL, p->servername ? p->servername : p->host, names,
				 "certificate is for %s, not %s", names, p->servername ? p->servername : p->host);
		goto out;
	}
	if (vr != X509_V_OK && !(vr == X509_V_ERR_CERT_HAS_EXPIRED && depth > 0)) {
		probe_set_result(r, BS_STATE_FAIL, "trusted", "not trusted", "certificate not trusted: %s (depth %d)",
				 X509_verify_cert_error_string(vr), depth);
		goto out;
	}
	if (p->check_chain && weak && chain_end < leaf_end && out->tls_chain_days < p->warn_days) {
		subject_cn(weak, who, sizeof(who));
		date_text(chain_end, d2, sizeof(d2));
		snprintf(obs, sizeof(obs), "%.0f days", out->tls_chain_days);
		if (chain_end <= now)
			probe_set_result(r, BS_STATE_FAIL, exp, obs,
					 "chain certificate '%s' expired on %s (the leaf runs to %s)", who, d2, d1);
		else
			probe_set_result(r, out->tls_chain_days < p->crit_days ? BS_STATE_FAIL : BS_STATE_WARN, exp, obs,
					 "chain certificate '%s' expires in %.0f days (%s, expected at least %d), "
					 "before the leaf (%s)",
					 who, out->tls_chain_days, d2,
					 out->tls_chain_days < p->crit_days ? p->crit_days : p->warn_days, d1);
		goto out;
	}
	if (out->tls_leaf_days < p->warn_days) {
		probe_set_result(r, out->tls_leaf_days < p->crit_days ? BS_STATE_FAIL : BS_STATE_WARN, exp, obs,
				 "leaf certificate expires in %.0f days (%s, expected at least %d)", out->tls_leaf_days, d1,
				 out->tls_leaf_days < p->crit_days ? p->crit_days : p->warn_days);
		goto out;
	}
	if (chain_end)
		date_text(chain_end, d2, sizeof(d2));
	probe_set_result(r, BS_STATE_OK, exp, obs, "leaf expires in %.0f days (%s)%s%s%s%s%s", out->tls_leaf_days, d1,
			 chain_end ? ", chain " : "", chain_end ? d2 : "", p->verify_hostname ? "; verified for " : "; verified",
			 p->verify_hostname ? (p->servername ? p->servername : p->host) : "", "");
out:
	X509_free(leaf);
	sk_X509_pop_free(sent, X509_free);
	sk_X509_pop_free(chain, X509_free);
}
