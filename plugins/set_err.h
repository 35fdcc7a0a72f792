/*
 * set_err.h - the one-line error message an in-tree plugin writes into its
 * caller's buffer. A plugin may not call the host library (bbt_error), so
 * the plugins that do not compile src/core/util.c in share this instead.
 */
#ifndef BBT_PLUGINS_SET_ERR_H
#define BBT_PLUGINS_SET_ERR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static inline void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

#endif /* BBT_PLUGINS_SET_ERR_H */
