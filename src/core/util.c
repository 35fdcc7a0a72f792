/*
 * util.c - error prefixes, strings, files.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

void bbt_error_prefix(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return;
	char prefix[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);

	char *old = bbt_strdup(err);
	if (old == NULL)
		return;
	snprintf(err, errlen, "%s: %s", prefix, old);
	free(old);
}

char *bbt_strdup(const char *s)
{
	return s == NULL ? NULL : bbt_strndup(s, strlen(s));
}

char *bbt_strndup(const char *s, size_t n)
{
	if (s == NULL)
		return NULL;
	char *d = malloc(n + 1);
	if (d == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *bbt_trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

char *bbt_asprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (s == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

char *bbt_path_join(const char *dir, const char *name)
{
	if (name[0] == '/' || dir == NULL || dir[0] == '\0')
		return bbt_strdup(name);
	size_t dl = strlen(dir);
	if (dir[dl - 1] == '/')
		return bbt_asprintf("%s%s", dir, name);
	return bbt_asprintf("%s/%s", dir, name);
}

int bbt_file_read(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
	*data = NULL;
	*len = 0;
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return bbt_error(err, errlen, BBT_EIO, "%s: %s", path, strerror(errno));

	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	if (buf == NULL) {
		fclose(f);
		return bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", path);
	}
	for (;;) {
		if (cap - n < 2) {
			char *nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", path);
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno;
		free(buf);
		fclose(f);
		return bbt_error(err, errlen, BBT_EIO, "%s: read error: %s", path, strerror(e));
	}
	fclose(f);
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return BBT_OK;
}

static int write_atomic(const char *path, const void *data, size_t len, int durable,
                        char *err, size_t errlen)
{
	char *tmp = bbt_asprintf("%s.tmp.%ld", path, (long)getpid());
	if (tmp == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", path);
	FILE *f = fopen(tmp, "wb");
	if (f == NULL) {
		int rc = bbt_error(err, errlen, BBT_EIO, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	int ok = fwrite(data, 1, len, f) == len;
	ok = (fflush(f) == 0) && ok;
	ok = (!durable || fsync(fileno(f)) == 0) && ok;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		int rc = bbt_error(err, errlen, BBT_EIO, "%s: write failed: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return rc;
	}
	free(tmp);
	return BBT_OK;
}

int bbt_file_write_atomic(const char *path, const void *data, size_t len,
                          char *err, size_t errlen)
{
	return write_atomic(path, data, len, 1, err, errlen);
}

int bbt_file_write_atomic_nosync(const char *path, const void *data, size_t len,
                                 char *err, size_t errlen)
{
	return write_atomic(path, data, len, 0, err, errlen);
}

int bbt_mkdir_p(const char *path, char *err, size_t errlen)
{
	/* The scan below starts at p + 1, past the end of "". */
	if (path == NULL || path[0] == '\0')
		return bbt_error(err, errlen, BBT_EINVAL, "mkdir: empty directory name");
	char *p = bbt_strdup(path);
	if (p == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			int rc = bbt_error(err, errlen, BBT_EIO, "%s: cannot create directory: %s",
			                   p, strerror(errno));
			free(p);
			return rc;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return bbt_error(err, errlen, BBT_EIO, "%s: not a directory", path);
	return BBT_OK;
}

int bbt_utf8_valid(const char *str, size_t len, size_t *bad)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			goto invalid;
		}
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				goto invalid;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto invalid;
		i += n + 1;
	}
	return 1;
invalid:
	if (bad != NULL)
		*bad = i;
	return 0;
}

void bbt_csv_field(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int bbt_has_extension(const char *name, const char *ext)
{
	size_t ln = strlen(name), le = strlen(ext);
	return ln > le && strcmp(name + ln - le, ext) == 0;
}

int bbt_parse_long(const char *s, long *out)
{
	/* strto* skip leading white space; "entirely a number" must not. */
	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int bbt_parse_double(const char *s, double *out)
{
	/* strto* skip leading white space; "entirely a number" must not. */
	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int bbt_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	if (s == NULL)
		return -1;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

int bbt_choice_valid(const char *choices, const char *value)
{
	size_t len = strlen(value);
	for (const char *p = choices; p != NULL && *p != '\0';) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (n == len && strncmp(p, value, n) == 0)
			return 1;
		p = bar ? bar + 1 : NULL;
	}
	return 0;
}

int bbt_name_is_plain(const char *name)
{
	if (name[0] == '\0' || name[0] == '.')
		return 0;
	for (const char *s = name; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return 0;
	return 1;
}

unsigned long long bbt_hash64(const void *data, size_t len, unsigned long long h)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

double bbt_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
