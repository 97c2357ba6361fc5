/* github_test.c - lib/report/github.c: workflow commands read back as the
 * runner reads them (one command per line, properties up to "::", values
 * percent-decoded); no hostile string starts a command of its own. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "fixture.h"
#include "harness.h"

static char *pct_decode(const char *s)
{
	char *o = malloc(strlen(s) + 1);
	size_t k = 0;

	for (; *s; s++) {
		if (*s == '%' && s[1] && s[2]) {
			char h[3] = {s[1], s[2], 0};
			o[k++] = (char)strtol(h, NULL, 16);
			s += 2;
		} else {
			o[k++] = *s;
		}
	}
	o[k] = '\0';
	return o;
}

TEST(one_command_per_problem)
{
	struct bs_report r;
	regex_t re;
	char *out, *line, *save = NULL;
	int rc, n = 0, errors = 0, found = 0;

	CHECK_INT(regcomp(&re,
			  "^::(error|warning|notice) (file=[^,:]*(,line=[0-9]+)?(,col=[0-9]+)?,)?title=[^:,]*::",
			  REG_EXTENDED | REG_NOSUB),
		  0);
	fixture(&r);
	out = render(bs_report_write_github, &r, 0, &rc);
	CHECK_INT(rc, 0);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		char *msg, *dec;
		if (regexec(&re, line, 0, NULL, 0) != 0) {
			printf("# not a workflow command: %s\n", bs_esc(line));
			CHECK(0);
			continue;
		}
		CHECK(bs_escape_needed(line, 0) == 0);
		errors += strncmp(line, "::error ", 8) == 0;
		msg = strstr(strstr(line, "title="), "::") + 2;
		dec = pct_decode(msg);
		if (strcmp(dec, "observed fail, expected pass: 2 tables differ\npublic.accounts: row count") == 0) {
			found = 1;
			CHECK(strstr(line, "::error file=policies/go-live.yaml,line=12,col=3,title=gate go-live FAIL "
					   "drill.passed::") == line);
		}
		free(dec);
	}
	CHECK_INT(n, 8); /* WARN 1, FAIL 5, UNKNOWN 1, WAIVED 1 */
	CHECK_INT(errors, 6);
	CHECK(found);
	free(out);
	out = render(bs_report_write_github, &r, BS_REPORT_WARN_FAILS, &rc);
	CHECK(strstr(out, "::warning") == NULL);
	free(out);
	regfree(&re);
	bs_report_release(&r);
}

TEST(passing_report_says_nothing)
{
	struct bs_report r;
	struct bs_finding f = {.check = "ok", .state = BS_STATE_OK};
	char *out;
	int rc;

	bs_report_init(&r);
	bs_report_add(&r, &f);
	f.state = BS_STATE_SKIPPED;
	bs_report_add(&r, &f);
	out = render(bs_report_write_github, &r, 0, &rc);
	CHECK_INT(rc, 0);
	CHECK_STR(out, "");
	free(out);
	bs_report_release(&r);
}

int main(void)
{
	RUN(one_command_per_problem);
	RUN(passing_report_says_nothing);
	return DONE();
}
