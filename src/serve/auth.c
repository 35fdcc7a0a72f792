/*
 * auth.c - the token file and constant-time token checks.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/util.h"
#include "serve/auth.h"

struct bbt_auth {
	size_t n;
	char **tok;
	size_t *len;
};

void bbt_auth_free(bbt_auth_t *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++) {
		if (a->tok[i] != NULL)
			memset(a->tok[i], 0, a->len[i]);
		free(a->tok[i]);
	}
	free(a->tok);
	free(a->len);
	free(a);
}

size_t bbt_auth_count(const bbt_auth_t *a)
{
	return a ? a->n : 0;
}

static int add_token(bbt_auth_t *a, const char *t, size_t len)
{
	char **tok = realloc(a->tok, (a->n + 1) * sizeof *tok);
	if (tok == NULL)
		return -1;
	a->tok = tok;
	size_t *l = realloc(a->len, (a->n + 1) * sizeof *l);
	if (l == NULL)
		return -1;
	a->len = l;
	if ((a->tok[a->n] = bbt_strndup(t, len)) == NULL)
		return -1;
	a->len[a->n++] = len;
	return 0;
}

int bbt_auth_load(const char *path, bbt_auth_t **out, char *err, size_t errlen)
{
	*out = NULL;
	char *data;
	size_t len;
	int rc = bbt_file_read(path, &data, &len, err, errlen);
	if (rc < 0)
		return rc;
	struct stat st;
	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
		bbt_log(BBT_LOG_WARNING, NULL, "%s: readable by others (chmod 600 it)", path);
	bbt_auth_t *a = calloc(1, sizeof *a);
	if (a == NULL) {
		free(data);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	size_t line = 0;
	for (char *p = data, *next; p < data + len; p = next) {
		char *nl = memchr(p, '\n', (size_t)(data + len - p));
		next = nl ? nl + 1 : data + len;
		line++;
		size_t n = (size_t)(next - p) - (nl != NULL);
		while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		while (n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		if (n == 0 || *p == '#')
			continue;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f) {
				rc = bbt_error(err, errlen, BBT_EFORMAT,
				               "%s:%zu: a token is one word of visible characters", path, line);
				break;
			}
		if (rc == BBT_OK && add_token(a, p, n) < 0)
			rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		if (rc < 0)
			break;
	}
	memset(data, 0, len);
	free(data);
	if (rc == BBT_OK && a->n == 0)
		rc = bbt_error(err, errlen, BBT_EFORMAT, "%s: no token in the file", path);
	if (rc < 0) {
		bbt_auth_free(a);
		return rc;
	}
	*out = a;
	return BBT_OK;
}

int bbt_auth_equal(const char *a, size_t la, const char *b, size_t lb)
{
	/* every byte of a is compared, against b cyclically: no early exit,
	 * no branch on the contents */
	volatile unsigned char d = (unsigned char)(la != lb);
	if (lb == 0)
		return la == 0;
	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i % lb]);
	return d == 0;
}

size_t bbt_auth_check(const bbt_auth_t *a, const char *authorization)
{
	if (a == NULL || authorization == NULL || strncasecmp(authorization, "Bearer ", 7) != 0)
		return 0;
	const char *t = authorization + 7;
	while (*t == ' ')
		t++;
	size_t lt = strlen(t);
	size_t who = 0;
	for (size_t i = 0; i < a->n; i++) {   /* every token is tried, whichever matches */
		size_t eq = (size_t)bbt_auth_equal(t, lt, a->tok[i], a->len[i]);
		who |= eq * (i + 1) * (who == 0);
	}
	return who;
}
