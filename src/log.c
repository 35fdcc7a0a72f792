/*
 * log.c - messages and progress on stderr.
 *
 * The level is process-wide state: it is set once from the command line
 * before any work starts, and every module (and plugin, through the host
 * services) reports through it.
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "log.h"

static enum bbt_log_level log_level = BBT_LOG_INFO;
static int progress_live;          /* a \r line is on the terminal */
static double progress_last;       /* when the last non-terminal line was printed */
static const double progress_interval = 10.0;
static char progress_prefix[192];  /* e.g. a grid's "[run 3/40, ETA 5m]" */

void bbt_log_set_level(enum bbt_log_level level)
{
	log_level = level;
}

enum bbt_log_level bbt_log_get_level(void)
{
	return log_level;
}

void bbt_progress_break(void)
{
	if (progress_live) {
		fputc('\n', stderr);
		progress_live = 0;
	}
}

void bbt_logv(enum bbt_log_level level, const char *who, const char *fmt, va_list ap)
{
	if (level > log_level)
		return;
	bbt_progress_break();
	fputs("bbtbench: ", stderr);
	if (who != NULL)
		fprintf(stderr, "%s: ", who);
	if (level == BBT_LOG_ERROR)
		fputs("error: ", stderr);
	else if (level == BBT_LOG_WARNING)
		fputs("warning: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
}

void bbt_log(enum bbt_log_level level, const char *who, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bbt_logv(level, who, fmt, ap);
	va_end(ap);
}

void bbt_progress_set_prefix(const char *text)
{
	snprintf(progress_prefix, sizeof progress_prefix, "%s", text ? text : "");
}

void bbt_progress(int final, const char *fmt, ...)
{
	if (log_level < BBT_LOG_INFO)
		return;
	int tty = isatty(fileno(stderr));
	double now = bbt_now();
	if (!tty && !final && progress_last != 0 && now - progress_last < progress_interval)
		return;
	progress_last = now;

	va_list ap;
	va_start(ap, fmt);
	if (tty)
		fputs("\r\033[K", stderr);
	fputs(progress_prefix, stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (tty && !final) {
		progress_live = 1;
	} else {
		fputc('\n', stderr);
		progress_live = 0;
	}
	fflush(stderr);
}
