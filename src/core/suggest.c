/*
 * suggest.c - the nearest known name to a mistyped one.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "core/suggest.h"

/* Longer names are not compared: nobody mistypes a 64-letter name. */
#define MAX_NAME 64

static int fold(int c)
{
	return c == '-' ? '_' : tolower((unsigned char)c);
}

int bbt_name_equiv(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (fold(*a) != fold(*b))
			return 0;
	return *a == *b;
}

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;
	return m < c ? m : c;
}

/* Edit distance of the folded names, counting a swap of two neighbours
 * as one edit (optimal string alignment); SIZE_MAX when a name is too
 * long to compare. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > MAX_NAME || lb > MAX_NAME)
		return (size_t)-1;
	size_t d[MAX_NAME + 1][MAX_NAME + 1];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = fold(a[i - 1]) != fold(b[j - 1]);
			d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) &&
			    fold(a[i - 2]) == fold(b[j - 1]) && d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	return d[la][lb];
}

const char *bbt_suggest(const char *typed, const char *const *candidates, size_t n)
{
	/* One edit in a short name, two in a longer one: "rte" should not
	 * suggest "toy", "sst-2" should suggest "sst2". */
	size_t limit = strlen(typed) <= 4 ? 1 : 2, best_d = limit + 1;
	const char *best = NULL;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(typed, candidates[i]) == 0)
			return NULL;
		size_t dist = distance(typed, candidates[i]);
		if (dist < best_d) {
			best_d = dist;
			best = candidates[i];
		}
	}
	return best;
}
