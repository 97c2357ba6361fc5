/* actor.c - who is doing this (actor.h) */
#include "common/actor.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void bs_actor(const char *flag, char *out, size_t n, const char **source)
{
	static const char *const vars[] = { "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILDKITE_BUILD_CREATOR_EMAIL",
					    "BITBUCKET_STEP_TRIGGERER_UUID", "USER", "LOGNAME", NULL };
	const char *v, *src = "--actor";
	struct passwd *pw;

	if (flag && *flag) {
		snprintf(out, n, "%s", flag);
		goto done;
	}
	for (int i = 0; vars[i]; i++) {
		if ((v = getenv(vars[i])) && *v) {
			snprintf(out, n, "%s", v);
			src = vars[i];
			goto done;
		}
	}
	if ((pw = getpwuid(getuid())) && pw->pw_name) {
		snprintf(out, n, "%s", pw->pw_name);
		src = "uid";
	} else {
		snprintf(out, n, "uid:%u", (unsigned)getuid());
		src = "uid";
	}
done:
	if (source)
		*source = src;
}
