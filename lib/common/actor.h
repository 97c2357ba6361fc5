/*
 * actor.h - who is doing this: the name recorded with gate decisions,
 * sign-offs and (later) rollbacks, so "who let this through" has an answer.
 *
 * In order: the command line's --actor; the CI system's user
 * (GITHUB_ACTOR, GITLAB_USER_LOGIN, BUILDKITE_BUILD_CREATOR_EMAIL,
 * BITBUCKET_STEP_TRIGGERER_UUID); $USER, $LOGNAME; the login name of our
 * uid; else "uid:<n>".  Not an authentication: a record of what the
 * environment says.
 */
#ifndef BS_COMMON_ACTOR_H
#define BS_COMMON_ACTOR_H

#include <stddef.h>

/* The actor into out (n bytes, cut), and where it came from into *source
 * ("--actor", "GITHUB_ACTOR", "USER", ...) when source is not NULL. */
void bs_actor(const char *flag, char *out, size_t n, const char **source);

#endif
