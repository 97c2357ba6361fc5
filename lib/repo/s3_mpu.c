/*
 * s3_mpu.c - S3 multipart upload, the driver hooks objstore_io.c calls
 * (s3_int.h): CreateMultipartUpload, UploadPart, CompleteMultipartUpload
 * (with If-None-Match: * for create-only writes), AbortMultipartUpload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "net/xml.h"
#include "repo/s3_int.h"

int s3_mpu_begin(struct objstore *os, const char *key, char **upload, struct bs_err *err)
{
	struct s3 *s = (struct s3 *)os;
	struct bs_s3_query qv[1] = { { "uploads", "" } };
	char id[1024];
	struct os_req q;
	struct bs_xml *x = NULL;
	int rc;

	*upload = NULL;
	rc = s3_request(s, &q, "POST", key, qv, 1, (const char *const *)s->object_hdr, NULL, 0,
			"start a multipart upload of", err);
	if (rc == 0) {
		x = bs_xml_parse(q.http.res.body, q.http.res.body_len, "S3 multipart upload answer", err);
		rc = x && bs_xml_text(bs_xml_root(x), "UploadId", id, sizeof(id)) > 0 && strlen(id) < sizeof(id) - 1
			     ? 0
			     : bs_err_set(err, BS_ERR_FORMAT, "S3 gave no upload id for '%s' in %s", key, os->where);
	}
	bs_xml_free(x);
	os_req_release(&q);
	if (rc == 0 && !(*upload = strdup(id)))
		rc = bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return rc;
}

int s3_mpu_part(struct objstore *os, struct os_req *r, const char *key, const char *upload, int no,
		const void *buf, size_t len, struct bs_err *err)
{
	char n[16];
	struct bs_s3_query qv[2] = { { "partNumber", n }, { "uploadId", upload } };

	snprintf(n, sizeof(n), "%d", no);
	return s3_prepare((struct s3 *)os, r, "PUT", key, qv, 2, NULL, buf, len, err);
}

int s3_mpu_complete(struct objstore *os, struct os_req *q, const char *key, const char *upload,
		    char *const *etags, int n, int create_only, struct bs_err *err)
{
	struct bs_s3_query qv[1] = { { "uploadId", upload } };
	const char *extra[2] = { create_only ? "If-None-Match: *" : NULL, NULL };
	char *xml = NULL;
	size_t xl = 0;
	FILE *f = open_memstream(&xml, &xl);
	struct bs_xml *x;
	int i, rc;

	if (!f)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	fputs("<CompleteMultipartUpload>", f);
	for (i = 0; i < n; i++)
		fprintf(f, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i + 1, etags[i]);
	fputs("</CompleteMultipartUpload>", f);
	if (fclose(f) != 0) {
		free(xml);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	rc = s3_request((struct s3 *)os, q, "POST", key, qv, 1, extra, xml, xl, "complete the upload of", err);
	/* S3 may answer 200 with an <Error> document */
	if (rc == 0 && q->http.res.body_len) {
		struct bs_err e;
		bs_err_init(&e);
		x = bs_xml_parse(q->http.res.body, q->http.res.body_len, "S3 completion answer", &e);
		if (!x || strcmp(bs_xml_name(bs_xml_root(x)), "Error") == 0) {
			q->http.res.status = 500;
			rc = os->drv->fail(os, &q->http.res, "complete the upload of", key, err);
		}
		bs_xml_free(x);
	}
	q->http.body = NULL; /* xml goes now; q is read for its outcome only */
	free(xml);
	return rc;
}

int s3_mpu_abort(struct objstore *os, const char *key, const char *upload, struct bs_err *err)
{
	struct bs_s3_query qv[1] = { { "uploadId", upload } };
	struct os_req q;
	int rc;

	if (!upload) /* no multipart upload was started */
		return 0;
	rc = s3_request((struct s3 *)os, &q, "DELETE", key, qv, 1, NULL, NULL, 0, "abort the multipart upload of",
			err);

	if (rc < 0 && err->code == BS_ERR_NOT_FOUND) {
		bs_err_init(err); /* gone already */
		rc = 0;
	} else if (rc < 0 && (q.http.res.status == 405 || q.http.res.status == 501)) {
		/* a store without AbortMultipartUpload: its parts stay until it
		 * expires them; nothing more this side can do */
		bs_warn("%s cannot abort multipart uploads (HTTP %ld): the parts of '%s' stay until the store "
			"removes them (a lifecycle rule for incomplete uploads does)", os->where, q.http.res.status, key);
		bs_err_init(err);
		rc = 0;
	}
	os_req_release(&q);
	return rc;
}
