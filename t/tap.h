/*
 * tap.h - a tiny TAP producer for the C tests (Debian 12 packages no C TAP
 * library). Output is read by automake's tap-driver.sh.
 *
 *     #include "tap.h"
 *     int main(void)
 *     {
 *         plan(2);
 *         ok(1 + 1 == 2, "addition");
 *         is_double(0.1 + 0.2, 0.3, 1e-12, "sum within tolerance");
 *         return done_testing();
 *     }
 *
 * Header-only: every test program includes it once.
 */
#ifndef BBT_TAP_H
#define BBT_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define TAP_FN static __attribute__((unused))
/* The compiler checks the arguments against the format: fmt is argument
 * f, the values start at argument a (0 for a va_list). */
#define TAP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TAP_FN static
#define TAP_PRINTF(f, a)
#endif

static int tap_run, tap_failed, tap_planned = -1;

TAP_FN void plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

/* Skip the whole program, with the reason (TAP "1..0 # SKIP"). */
TAP_FN void skip_all(const char *fmt, ...) TAP_PRINTF(1, 2);
TAP_FN void skip_all(const char *fmt, ...)
{
	va_list ap;
	printf("1..0 # SKIP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(0);
}

TAP_FN void diag(const char *fmt, ...) TAP_PRINTF(1, 2);
TAP_FN void diag(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "# ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(stderr);
}

TAP_FN int tap_vok(int pass, const char *fmt, va_list ap) TAP_PRINTF(2, 0);
TAP_FN int tap_vok(int pass, const char *fmt, va_list ap)
{
	tap_run++;
	if (!pass)
		tap_failed++;
	printf("%sok %d - ", pass ? "" : "not ", tap_run);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	return pass;
}

TAP_FN int ok(int pass, const char *fmt, ...) TAP_PRINTF(2, 3);
TAP_FN int ok(int pass, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = tap_vok(pass, fmt, ap);
	va_end(ap);
	return r;
}

TAP_FN int is_int(long long got, long long want, const char *fmt, ...) TAP_PRINTF(3, 4);
TAP_FN int is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = tap_vok(got == want, fmt, ap);
	va_end(ap);
	if (!r)
		diag("  got %lld, want %lld", got, want);
	return r;
}

/* |got - want| <= tol (absolute). */
TAP_FN int is_double(double got, double want, double tol, const char *fmt, ...) TAP_PRINTF(4, 5);
TAP_FN int is_double(double got, double want, double tol, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = tap_vok(fabs(got - want) <= tol, fmt, ap);
	va_end(ap);
	if (!r)
		diag("  got %.17g, want %.17g (tolerance %g)", got, want, tol);
	return r;
}

TAP_FN int is_string(const char *got, const char *want, const char *fmt, ...) TAP_PRINTF(3, 4);
TAP_FN int is_string(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int same = (got == NULL && want == NULL) ||
	           (got != NULL && want != NULL && strcmp(got, want) == 0);
	va_start(ap, fmt);
	int r = tap_vok(same, fmt, ap);
	va_end(ap);
	if (!r)
		diag("  got \"%s\", want \"%s\"", got ? got : "(null)", want ? want : "(null)");
	return r;
}

/* `haystack` contains `needle` (for error messages). */
TAP_FN int like(const char *haystack, const char *needle, const char *fmt, ...) TAP_PRINTF(3, 4);
TAP_FN int like(const char *haystack, const char *needle, const char *fmt, ...)
{
	va_list ap;
	int found = haystack != NULL && strstr(haystack, needle) != NULL;
	va_start(ap, fmt);
	int r = tap_vok(found, fmt, ap);
	va_end(ap);
	if (!r)
		diag("  \"%s\" does not contain \"%s\"", haystack ? haystack : "(null)", needle);
	return r;
}

TAP_FN void skip(int n, const char *reason)
{
	for (int i = 0; i < n; i++) {
		tap_run++;
		printf("ok %d # skip %s\n", tap_run, reason);
	}
	fflush(stdout);
}

/* Exit status for main: 0 when every planned test ran and passed. */
TAP_FN int done_testing(void)
{
	if (tap_planned < 0) {
		printf("1..%d\n", tap_run);
		tap_planned = tap_run;
	}
	if (tap_run != tap_planned)
		diag("planned %d tests but ran %d", tap_planned, tap_run);
	return (tap_failed == 0 && tap_run == tap_planned) ? 0 : 1;
}

#endif /* BBT_TAP_H */
