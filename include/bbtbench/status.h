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
 */
#ifndef BBTBENCH_STATUS_H
#define BBTBENCH_STATUS_H

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

#ifdef __cplusplus
}
#endif

#endif /* BBTBENCH_STATUS_H */
