/* err.c - see err.h */
#include "common/err.h"

#include "common/escape.h"

#include <errno.h>
#include <string.h>

void bs_err_init(struct bs_err *err)
{
	bs_err_clear(err);
}

void bs_err_clear(struct bs_err *err)
{
	if (!err)
		return;
	err->code = BS_OK;
	err->sys_errno = 0;
	err->msg[0] = err->detail[0] = err->hint[0] = err->sqlstate[0] = '\0';
}

int bs_err_is_sqlstate(const struct bs_err *err, const char *sqlstate)
{
	return err && err->sqlstate[0] && strcmp(err->sqlstate, sqlstate) == 0;
}

int bs_err_vset(struct bs_err *err, int code, const char *fmt, va_list ap)
{
	if (!err)
		return -1;
	err->code = code;
	err->sys_errno = 0;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	err->detail[0] = err->hint[0] = err->sqlstate[0] = '\0';
	return -1;
}

int bs_err_set(struct bs_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bs_err_vset(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int bs_err_sys(struct bs_err *err, int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!err)
		return -1;
	va_start(ap, fmt);
	bs_err_vset(err, code, fmt, ap);
	va_end(ap);
	err->sys_errno = errnum;
	n = strlen(err->msg);
	if (n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(errnum));
	return -1;
}

int bs_err_prefix(struct bs_err *err, const char *fmt, ...)
{
	char pre[BS_ERR_MSG_MAX], old[BS_ERR_MSG_MAX];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", pre, old);
	return -1;
}

void bs_err_detail(struct bs_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
}

void bs_err_hint(struct bs_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
	va_end(ap);
}

/* Messages quote names from databases and archives: printed escaped
 * (common/escape.h); details and hints may hold several lines. */
void bs_err_print(const struct bs_err *err, const char *prog, FILE *f)
{
	char esc[4 * BS_ERR_DETAIL_MAX];

	bs_escape_term(esc, sizeof(esc), err->msg[0] ? err->msg : "unknown error", 0);
	fprintf(f, "%s: error: %s\n", prog, esc);
	if (err->detail[0]) {
		bs_escape_term(esc, sizeof(esc), err->detail, BS_ESC_KEEP_NL);
		fprintf(f, "detail: %s\n", esc);
	}
	if (err->hint[0]) {
		bs_escape_term(esc, sizeof(esc), err->hint, BS_ESC_KEEP_NL);
		fprintf(f, "hint: %s\n", esc);
	}
}

int bs_err_exit_code(const struct bs_err *err)
{
	if (!err || err->code == BS_OK)
		return 0;
	if (err->code >= 100 && err->code < 200)
		return 2;
	if (err->code >= 200 && err->code < 300)
		return 1;
	return 3;
}

const char *bs_err_name(int code)
{
	switch (code) {
	case BS_OK: return "BS_OK";
	case BS_ERR_USAGE: return "BS_ERR_USAGE";
	case BS_ERR_CONFIG: return "BS_ERR_CONFIG";
	case BS_ERR_POLICY: return "BS_ERR_POLICY";
	case BS_ERR_NOT_FOUND: return "BS_ERR_NOT_FOUND";
	case BS_ERR_REFUSED: return "BS_ERR_REFUSED";
	case BS_ERR_EXISTS: return "BS_ERR_EXISTS";
	case BS_ERR_SECRET_PERM: return "BS_ERR_SECRET_PERM";
	case BS_ERR_VERIFY: return "BS_ERR_VERIFY";
	case BS_ERR_GATE: return "BS_ERR_GATE";
	case BS_ERR_PROBE: return "BS_ERR_PROBE";
	case BS_ERR_IO: return "BS_ERR_IO";
	case BS_ERR_NOMEM: return "BS_ERR_NOMEM";
	case BS_ERR_PG: return "BS_ERR_PG";
	case BS_ERR_PG_CONNECT: return "BS_ERR_PG_CONNECT";
	case BS_ERR_CRYPTO: return "BS_ERR_CRYPTO";
	case BS_ERR_FORMAT: return "BS_ERR_FORMAT";
	case BS_ERR_SUBPROCESS: return "BS_ERR_SUBPROCESS";
	case BS_ERR_LOCKED: return "BS_ERR_LOCKED";
	case BS_ERR_INTERRUPTED: return "BS_ERR_INTERRUPTED";
	case BS_ERR_NET: return "BS_ERR_NET";
	case BS_ERR_NO_IDENTITY: return "BS_ERR_NO_IDENTITY";
	case BS_ERR_INTERNAL: return "BS_ERR_INTERNAL";
	}
	return "BS_ERR_UNKNOWN";
}
