/*
 * log.h - the host's messages on stderr: "bbtbench: ..." lines, filtered by
 * a verbosity level, and one live progress line on a terminal.
 */
#ifndef BBT_LOG_H
#define BBT_LOG_H

#include <stdarg.h>
#include <bbtbench/host.h>
#include "core/util.h"

/* Messages above `level` are dropped (default BBT_LOG_INFO; --quiet:
 * BBT_LOG_WARNING; -v: BBT_LOG_DEBUG). */
void bbt_log_set_level(enum bbt_log_level level);
enum bbt_log_level bbt_log_get_level(void);

/* "bbtbench: [who: ]message" on stderr; warnings and errors say so. */
void bbt_log(enum bbt_log_level level, const char *who, const char *fmt, ...) BBT_PRINTF(3, 4);
void bbt_logv(enum bbt_log_level level, const char *who, const char *fmt, va_list ap);

/* Progress: on a terminal, the line is redrawn in place (\r); elsewhere it
 * is printed as an ordinary line at most every `interval` seconds (and
 * when `final` is set). Suppressed below BBT_LOG_INFO. */
void bbt_progress(int final, const char *fmt, ...) BBT_PRINTF(2, 3);
/* Text put before every progress line (NULL or "": none); a grid shows
 * its own progress there, in front of the current run's. */
void bbt_progress_set_prefix(const char *text);
/* End a live progress line before other output. */
void bbt_progress_break(void);
/* Off: progress lines no longer reach the terminal (a grid's worker: the
 * grid shows one line for all of them), only the log copy. */
void bbt_progress_set_terminal(int on);

/* A run's log (run.log in its folder): from now on every message and
 * progress line that passes the level is also appended to `path` (progress
 * at most every 10 seconds, and the final line), after a line "--- attempt
 * <UTC time>, pid N ---". Appending keeps an earlier attempt's log. Returns
 * 0, or -1 with errno when the file cannot be opened. */
int bbt_log_copy_open(const char *path);
/* A line for the copy alone (what the caller will report on the terminal
 * after the copy is closed, e.g. the error that ended the run). */
void bbt_log_copy_note(const char *fmt, ...) BBT_PRINTF(1, 2);
/* Stop copying and close the file. */
void bbt_log_copy_close(void);

#endif /* BBT_LOG_H */
