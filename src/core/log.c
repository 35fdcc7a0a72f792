/*
 * log.c - messages and progress on stderr.
 *
 * The level is process-wide state: it is set once from the command line
 * before any work starts, and every module (and plugin, through the host
 * services) reports through it.
 */
#include "config.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

static enum bbt_log_level log_level = BBT_LOG_INFO;
static int progress_live;          /* a \r line is on the terminal */
static double progress_last;       /* when the last non-terminal line was printed */
static const double progress_interval = 10.0;
static char progress_prefix[192];  /* e.g. a grid's "[run 3/40, ETA 5m]" */
static int progress_terminal = 1;  /* progress lines go to stderr */
static FILE *copy;                 /* the run's run.log, or NULL */
static double copy_progress_last;  /* when the last progress line was copied */

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
	/* run.log keeps the run's info and progress even under --quiet. */
	int to_copy = copy != NULL && (level <= BBT_LOG_INFO || level <= log_level);
	if (level > log_level && !to_copy)
		return;
	/* One buffer, one write: grid workers share the terminal, and a line
	 * written in pieces could be cut by another worker's. */
	char line[4096];
	int n = snprintf(line, sizeof line, "bbtbench: %s%s%s", who ? who : "", who ? ": " : "",
	                 level == BBT_LOG_ERROR     ? "error: "
	                 : level == BBT_LOG_WARNING ? "warning: "
	                                            : "");
	if (n >= 0 && (size_t)n < sizeof line - 1) {
		vsnprintf(line + n, sizeof line - 1 - (size_t)n, fmt, ap);
		/* Messages quote what files say (a value, a key, a name), and
		 * files come from other people: no control character of theirs
		 * reaches the terminal, where it could be an escape sequence. */
		for (char *c = line + n; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
	}
	if (level <= log_level) {
		bbt_progress_break();
		/* A grid worker's line lands on the grid's live progress line:
		 * clear it first (the grid redraws it at its next report). */
		int over_grid = !progress_terminal && isatty(fileno(stderr));
		fprintf(stderr, "%s%s\n", over_grid ? "\r\033[K" : "", line);
		fflush(stderr);
	}
	if (to_copy) {
		fprintf(copy, "%s\n", line);
		fflush(copy);
	}
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

void bbt_progress_set_terminal(int on)
{
	progress_terminal = on;
}

int bbt_log_copy_open(const char *path)
{
	bbt_log_copy_close();
	copy = fopen(path, "a");
	if (copy == NULL)
		return -1;
	time_t now = time(NULL);
	char stamp[32];
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	fprintf(copy, "--- attempt %s, pid %ld ---\n", stamp, (long)getpid());
	fflush(copy);
	copy_progress_last = 0;
	return 0;
}

void bbt_log_copy_note(const char *fmt, ...)
{
	if (copy == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(copy, fmt, ap);
	va_end(ap);
	fputc('\n', copy);
	fflush(copy);
}

void bbt_log_copy_close(void)
{
	if (copy != NULL)
		fclose(copy);
	copy = NULL;
}

void bbt_progress(int final, const char *fmt, ...)
{
	if (log_level < BBT_LOG_INFO && copy == NULL)
		return;
	double now = bbt_now();
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);

	/* The copy is a file: a line at most every interval, like a pipe. */
	if (copy != NULL && (final || copy_progress_last == 0 ||
	                     now - copy_progress_last >= progress_interval)) {
		copy_progress_last = now;
		fprintf(copy, "%s\n", line);
		fflush(copy);
	}
	if (!progress_terminal || log_level < BBT_LOG_INFO)
		return;
	int tty = isatty(fileno(stderr));
	if (!tty && !final && progress_last != 0 && now - progress_last < progress_interval)
		return;
	progress_last = now;
	if (tty)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "%s%s", progress_prefix, line);
	if (tty && !final) {
		progress_live = 1;
	} else {
		fputc('\n', stderr);
		progress_live = 0;
	}
	fflush(stderr);
}
