/* xml_test.c - the XML helpers on what S3 and Azure send (errors,
 * listings) and on malformed and hostile input (billion laughs, external
 * entities, DTDs, deep nesting, oversized). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "net/xml.h"

static struct bs_xml *parse(const char *s, struct bs_err *err)
{
	bs_err_init(err);
	return bs_xml_parse(s, strlen(s), "test document", err);
}

TEST(s3_error)
{
	static const char body[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				   "<Error><Code>NoSuchKey</Code><Message>The resource you requested "
				   "does not exist &amp; never did</Message><Resource>/b/k</Resource>"
				   "<RequestId>4442587FB7D0A2F9</RequestId></Error>";
	struct bs_xml_error e;
	struct bs_err err;

	CHECK_INT(bs_xml_error_parse(body, strlen(body), &e, &err), 0);
	CHECK_STR(e.code, "NoSuchKey");
	CHECK_STR(e.message, "The resource you requested does not exist & never did");
	CHECK_STR(e.request_id, "4442587FB7D0A2F9");
}

TEST(azure_error)
{
	/* Azure sends a UTF-8 BOM and puts the request id in the message */
	static const char body[] = "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><Error>"
				   "<Code>ContainerNotFound</Code><Message>The specified container does not "
				   "exist.\nRequestId:c1f3b7a0-001e-0001-2f1d-7a4d2b000000\n"
				   "Time:2026-11-29T12:00:00.0000000Z</Message></Error>";
	struct bs_xml_error e;
	struct bs_err err;

	CHECK_INT(bs_xml_error_parse(body, strlen(body), &e, &err), 0);
	CHECK_STR(e.code, "ContainerNotFound");
	CHECK(strncmp(e.message, "The specified container does not exist.\nRequestId:c1f3", 54) == 0);
	CHECK_STR(e.request_id, "");
}

TEST(error_parse_refuses_other_documents)
{
	static const char other[] = "<ListBucketResult/>";
	static const char html[] = "<html><body>502 Bad Gateway</body>";
	struct bs_xml_error e;
	struct bs_err err;

	CHECK_INT(bs_xml_error_parse(other, strlen(other), &e, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_INT(bs_xml_error_parse(html, strlen(html), &e, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_INT(bs_xml_error_parse("", 0, &e, &err), -1);
	CHECK_INT(bs_xml_error_parse(NULL, 0, &e, &err), -1);
}

TEST(s3_listing_three_entries)
{
	static const char body[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Name>bucket</Name><Prefix>snap/</Prefix><KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys>"
		"<IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
		"</NextContinuationToken>\n"
		"  <Contents><Key>snap/a.tar</Key><LastModified>2026-11-29T10:00:00.000Z</LastModified>"
		"<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1048576</Size>"
		"<StorageClass>STANDARD</StorageClass></Contents>\n"
		"  <!-- a comment between entries -->\n"
		"  <Contents><Key>snap/b &amp; c.tar</Key><Size>0</Size></Contents>\n"
		"  <CommonPrefixes><Prefix>snap/sub/</Prefix></CommonPrefixes>\n"
		"  <Contents><Key><![CDATA[snap/<d>.tar]]></Key><Size>17179869184</Size></Contents>\n"
		"</ListBucketResult>";
	static const char *keys[] = { "snap/a.tar", "snap/b & c.tar", "snap/<d>.tar" };
	static const char *sizes[] = { "1048576", "0", "17179869184" };
	struct bs_err err;
	struct bs_xml *x = parse(body, &err);
	const struct _xmlNode *root, *n;
	char buf[256];
	int i = 0;

	CHECK(x != NULL);
	if (!x)
		return;
	root = bs_xml_root(x);
	CHECK_STR(bs_xml_name(root), "ListBucketResult");
	CHECK_INT(bs_xml_text(root, "IsTruncated", buf, sizeof(buf)), 4);
	CHECK_STR(buf, "true");
	bs_xml_text(root, "NextContinuationToken", buf, sizeof(buf));
	CHECK_STR(buf, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	for (n = bs_xml_child(root, "Contents"); n && i < 10; n = bs_xml_next(n, "Contents"), i++) {
		if (i >= 3)
			continue;
		CHECK_INT(bs_xml_text(n, "Key", buf, sizeof(buf)), (long)strlen(keys[i]));
		CHECK_STR(buf, keys[i]);
		bs_xml_text(n, "Size", buf, sizeof(buf));
		CHECK_STR(buf, sizes[i]);
	}
	CHECK_INT(i, 3);
	n = bs_xml_child(root, "Contents");
	bs_xml_text(n, "ETag", buf, sizeof(buf));
	CHECK_STR(buf, "\"9b2cf535f27731c974343645a3985328\"");
	CHECK_INT(bs_xml_text(n, "Owner", buf, sizeof(buf)), -1);
	CHECK_STR(buf, "");
	bs_xml_text(root, "CommonPrefixes/Prefix", buf, sizeof(buf));
	CHECK_STR(buf, "snap/sub/");
	/* truncation is reported by the length */
	CHECK_INT(bs_xml_text(n, "Key", buf, 5), 10);
	CHECK_STR(buf, "snap");
	bs_xml_free(x);
}

TEST(azure_listing)
{
	static const char body[] =
		"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>"
		"<EnumerationResults ServiceEndpoint=\"http://127.0.0.1:10000/devstoreaccount1/\" "
		"ContainerName=\"backups\"><Blobs>"
		"<Blob><Name>snap/a.tar</Name><Properties><Content-Length>42</Content-Length></Properties></Blob>"
		"<Blob><Name>snap/b.tar</Name><Properties><Content-Length>7</Content-Length></Properties></Blob>"
		"</Blobs><NextMarker /></EnumerationResults>";
	struct bs_err err;
	struct bs_xml *x = parse(body, &err);
	const struct _xmlNode *n;
	char buf[64];
	int i = 0;

	CHECK(x != NULL);
	if (!x)
		return;
	for (n = bs_xml_child(bs_xml_root(x), "Blobs/Blob"); n && i < 10; n = bs_xml_next(n, "Blob"))
		i++;
	CHECK_INT(i, 2);
	n = bs_xml_child(bs_xml_root(x), "Blobs/Blob");
	bs_xml_text(n, "Properties/Content-Length", buf, sizeof(buf));
	CHECK_STR(buf, "42");
	CHECK_INT(bs_xml_text(bs_xml_root(x), "NextMarker", buf, sizeof(buf)), 0);
	bs_xml_free(x);
}

TEST(malformed)
{
	static const char *bad[] = {
		"<Error><Code>x</Code>",                 /* truncated */
		"<Error><Code>x</Message></Error>",      /* mismatched */
		"not xml at all",
		"<a></a><b></b>",                        /* two roots */
		"<a>\x01</a>",                           /* control character */
		"<?xml version=\"1.0\"?>",               /* no root */
	};
	struct bs_err err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bs_xml *x = parse(bad[i], &err);

		CHECK(x == NULL);
		if (x) {
			printf("#   accepted: %s\n", bad[i]);
			bs_xml_free(x);
		}
		CHECK_INT(err.code, BS_ERR_FORMAT);
	}
	/* an embedded NUL ends nothing: the bounded length is what counts */
	CHECK(bs_xml_parse("<a>x</a>\0<b/>", 13, "nul", &err) == NULL);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK(bs_xml_parse("<a>x\0</a>", 9, "nul", &err) == NULL);
}

TEST(billion_laughs_not_expanded)
{
	static const char body[] =
		"<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
		" <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
		" <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
		" <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
		" <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
		" <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
		" <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
		" <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
		" <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
		" <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
		"]>\n<Error><Code>&lol9;</Code><Message>m</Message></Error>";
	struct bs_xml_error e;
	struct bs_err err;
	clock_t t0 = clock();

	CHECK_INT(bs_xml_error_parse(body, strlen(body), &e, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_STR(e.code, "");
	/* refused at the DOCTYPE: no time spent expanding */
	CHECK((clock() - t0) < CLOCKS_PER_SEC / 2);
}

TEST(external_entities_and_dtds_refused)
{
	static const char *hostile[] = {
		"<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>",
		"<?xml version=\"1.0\"?><!DOCTYPE r SYSTEM \"http://127.0.0.1:9/evil.dtd\"><r>&x;</r>",
		"<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY % p SYSTEM \"http://127.0.0.1:9/p\"> %p;]><r/>",
		"<!DOCTYPE r><r/>",
	};
	struct bs_err err;
	size_t i;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct bs_xml *x = parse(hostile[i], &err);

		CHECK(x == NULL);
		bs_xml_free(x);
		CHECK_INT(err.code, BS_ERR_FORMAT);
		CHECK(strstr(err.msg, "root:") == NULL); /* /etc/passwd never read into a message */
	}
}

TEST(deep_nesting_and_size_bounded)
{
	size_t depth = 100000, i, n = 0;
	char *buf = calloc(1, (size_t)BS_XML_MAX_INPUT + 1);
	struct bs_err err;
	struct bs_xml *x;

	CHECK(buf != NULL);
	if (!buf)
		return;
	for (i = 0; i < depth; i++)
		n += (size_t)sprintf(buf + n, "<a>");
	for (i = 0; i < depth; i++)
		n += (size_t)sprintf(buf + n, "</a>");
	x = bs_xml_parse(buf, n, "deep", &err);
	CHECK(x == NULL); /* libxml2's depth limit, without XML_PARSE_HUGE */
	bs_xml_free(x);
	CHECK(bs_xml_parse(buf, (size_t)BS_XML_MAX_INPUT + 1, "huge", &err) == NULL);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	free(buf);
}

int main(void)
{
	RUN(s3_error);
	RUN(azure_error);
	RUN(error_parse_refuses_other_documents);
	RUN(s3_listing_three_entries);
	RUN(azure_listing);
	RUN(malformed);
	RUN(billion_laughs_not_expanded);
	RUN(external_entities_and_dtds_refused);
	RUN(deep_nesting_and_size_bounded);
	return DONE();
}
