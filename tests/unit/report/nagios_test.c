/* nagios_test.c - lib/report/nagios.c: the status line read as a monitoring
 * system reads it (state word, one '|', perfdata tokens by the plugin
 * grammar), the long output, and the exit codes. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "fixture.h"
#include "harness.h"

/* Split perfdata into tokens ('quoted label'=rest up to a space); check each
 * against the grammar; returns how many, -1 on a malformed one. */
static int perf_tokens(const char *p, char labels[][64], int max)
{
	regex_t re;
	int n = 0;

	CHECK_INT(regcomp(&re,
			  "^'([^']|'')+'=(-?[0-9.]+|U)(s|ms|us|%|B|KB|MB|GB|TB|c)?"
			  ";(-?[0-9.]+)?;(-?[0-9.]+)?;(-?[0-9.]+)?;(-?[0-9.]+)?$",
			  REG_EXTENDED | REG_NOSUB),
		  0);
	while (*p == ' ')
		p++;
	while (*p) {
		const char *q = p + 1, *end;
		char tok[512];
		size_t k = 0;
		if (*p != '\'')
			goto bad;
		for (; *q; q++) {
			if (*q == '\'' && q[1] == '\'') {
				q++;
				continue;
			}
			if (*q == '\'')
				break;
		}
		end = strchr(q, ' ');
		if (!end)
			end = q + strlen(q);
		if ((size_t)(end - p) >= sizeof(tok))
			goto bad;
		memcpy(tok, p, (size_t)(end - p));
		tok[end - p] = '\0';
		if (regexec(&re, tok, 0, NULL, 0) != 0) {
			printf("# bad perfdata token: %s\n", tok);
			goto bad;
		}
		if (n < max) {
			k = (size_t)(q - p - 1) < 63 ? (size_t)(q - p - 1) : 63;
			memcpy(labels[n], p + 1, k);
			labels[n][k] = '\0';
		}
		n++;
		p = *end ? end + 1 : end;
	}
	regfree(&re);
	return n;
bad:
	regfree(&re);
	return -1;
}

TEST(status_line_and_perfdata)
{
	struct bs_report r;
	char labels[8][64], *out, *nl, *bar;
	int rc;

	fixture(&r);
	out = render(bs_report_write_nagios, &r, 0, &rc);
	CHECK_INT(rc, 0);
	nl = strchr(out, '\n');
	CHECK(nl != NULL);
	*nl = '\0';
	CHECK(bs_escape_needed(out, 0) == 0);
	CHECK(strstr(out, " CRITICAL - 7 of 14 checks not ok: drill.passed observed fail") != NULL);
	bar = strchr(out, '|');
	CHECK(bar != NULL && strchr(bar + 1, '|') == NULL); /* exactly one: the text has none */
	CHECK_INT(perf_tokens(bar + 1, labels, 8), 2);
	CHECK_STR(labels[0], "time");
	CHECK_STR(labels[1], "size_x''y_"); /* '|' and newline replaced, quote doubled */
	CHECK(strstr(bar, "'time'=0.25s;1;2;;") != NULL);
	CHECK(strstr(bar, "=1024;;;0;") != NULL); /* a unit outside the plugin set is left out */
	/* long output: a line per finding, none with a '|' (it would start perfdata) */
	{
		char *line, *save = NULL;
		int n = 0;
		for (line = strtok_r(nl + 1, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
			CHECK(strchr(line, '|') == NULL);
			CHECK(bs_escape_needed(line, 0) == 0);
		}
		CHECK_INT(n, 7 + NHOSTILE);
	}
	free(out);
	CHECK_INT(bs_report_nagios_code(&r), 2);
	bs_report_release(&r);
}

TEST(numbers_and_codes)
{
	struct bs_report r;
	struct bs_measure m[3] = {
		{.name = "big", .value = 1e20, .unit = "B"},
		{.name = "neg", .value = -1.5, .unit = "%", .set = BS_MEASURE_MAX, .max = 100},
		{.name = "int", .value = 3, .unit = "c"},
	};
	struct bs_finding f = {.check = "c", .state = BS_STATE_OK, .measures = m, .nmeasures = 3, .seconds = -1};
	char labels[4][64], *out;
	int rc;

	bs_report_init(&r);
	bs_report_set_title(&r, "BACKSTOP", NULL);
	bs_report_add(&r, &f);
	out = render(bs_report_write_nagios, &r, 0, &rc);
	CHECK(strncmp(out, "BACKSTOP OK - 1 check ok |", 26) == 0);
	*strchr(out, '\n') = '\0';
	CHECK_INT(perf_tokens(strchr(out, '|') + 1, labels, 4), 3);
	CHECK(strstr(out, "'big'=UB;;;;") != NULL);
	CHECK(strstr(out, "'neg'=-1.5%;;;;100") != NULL);
	CHECK(strstr(out, "'int'=3c;;;;") != NULL);
	free(out);
	CHECK_INT(bs_report_nagios_code(&r), 0);
	f.state = BS_STATE_WARN, f.nmeasures = 0;
	bs_report_add(&r, &f);
	CHECK_INT(bs_report_nagios_code(&r), 1);
	f.state = BS_STATE_UNKNOWN;
	bs_report_add(&r, &f);
	CHECK_INT(bs_report_nagios_code(&r), 3);
	f.state = BS_STATE_FAIL;
	bs_report_add(&r, &f);
	CHECK_INT(bs_report_nagios_code(&r), 2);
	bs_report_release(&r);
}

int main(void)
{
	RUN(status_line_and_perfdata);
	RUN(numbers_and_codes);
	return DONE();
}
