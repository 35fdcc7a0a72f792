/*
 * bbtbench/status.h - the one status type of bbtbench.
 *
 * Every function of the host and of a plugin that can fail returns an int:
 * 0 (BBT_OK) on success, a negative BBT_E* code on error, or a positive
 * code for a non-error signal (BBT_STOP: "the optimizer has converged").
 * Error details go as one line of text into a caller-owned buffer
 * (char *err, size_t errlen); the code says only what kind of failure it was.
 *
 *     char err[256];
 *     if (bbt_task_load(path, &task, err, sizeof err) < 0)
 *         fprintf(stderr, "bbtbench: %s\n", err);
 *
 * The one way to report an error, in the host, the model library and every
 * plugin, is bbt_error() below: it writes the message where the failure is
 * seen and hands back the code, so that the report and the return are one
 * statement:
 *
 *     if (dim == 0)
 *         return bbt_error(err, errlen, BBT_EINVAL, "cmaes: dimension 0");
 *
 * Both helpers are static inline: a plugin that includes this header gets
 * them without linking anything.
 */
#ifndef BBTBENCH_STATUS_H
#define BBTBENCH_STATUS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

enum bbt_status {
	BBT_OK = 0,
	BBT_STOP = 1,       /* not an error: a stop criterion was met */
	BBT_EINVAL = -1,    /* bad argument, option or configuration value */
	BBT_ENOMEM = -2,    /* out of memory */
	BBT_EIO = -3,       /* a file could not be opened, read or written */
	BBT_EFORMAT = -4,   /* a file's content is malformed */
	BBT_ENOTFOUND = -5, /* a named thing (plugin, task, key, file) is absent */
	BBT_EABI = -6,      /* a plugin built for another ABI */
	BBT_ENOTSUP = -7,   /* the operation is not offered by this plugin */
	BBT_EINTR = -8,     /* interrupted by the user (SIGINT/SIGTERM) */
	BBT_EINTERNAL = -9, /* a bug: an invariant did not hold */
};

/* Message-buffer size that every caller in the host uses; plugins may rely
 * on at least this much room. Room for a PATH_MAX path and the reason
 * after it: a message cut short loses the reason, which comes last. */
#define BBT_ERRLEN 4096

/* Words for a status code ("invalid argument", ...); a static string,
 * "unknown status" for a code not listed above. Thread-safe. */
static inline const char *bbt_status_str(int status)
{
	switch (status) {
	case BBT_OK: return "success";
	case BBT_STOP: return "stop criterion met";
	case BBT_EINVAL: return "invalid argument";
	case BBT_ENOMEM: return "out of memory";
	case BBT_EIO: return "input/output error";
	case BBT_EFORMAT: return "malformed input";
	case BBT_ENOTFOUND: return "not found";
	case BBT_EABI: return "plugin ABI mismatch";
	case BBT_ENOTSUP: return "not supported";
	case BBT_EINTR: return "interrupted";
	case BBT_EINTERNAL: return "internal error";
	default: return "unknown status";
	}
}

/* Format one line of message (printf-style, no trailing newline) into the
 * caller-owned buffer err of errlen bytes, cut short to fit and always
 * NUL-terminated, and return `status` unchanged. err == NULL or errlen == 0
 * writes nothing. It allocates nothing and touches no global state, so it
 * is safe from any thread on distinct buffers. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static inline int bbt_error(char *err, size_t errlen, int status, const char *fmt, ...)
{
	if (err != NULL && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return status;
}

#ifdef __cplusplus
}
#endif

#endif /* BBTBENCH_STATUS_H */
