/*
 * t/options.c - plugin options: given pairs, resolution against a table,
 * defaults, types, ranges, unknown keys.
 */
#include "config.h"

#include "plugin/options.h"
#include "tap.h"
#include "core/util.h"

static const struct bbt_option_spec spec[] = {
	{ "q", BBT_OPT_INT, "10", NULL, 1, 1000, "directions" },
	{ "mu", BBT_OPT_DOUBLE, "0.01", NULL, 0, 0, "smoothing" },
	{ "momentum", BBT_OPT_BOOL, "false", NULL, 0, 0, "momentum" },
	{ "difference", BBT_OPT_CHOICE, "forward", "forward|central", 0, 0, "scheme" },
	{ "tag", BBT_OPT_STRING, NULL, NULL, 0, 0, "free text" },
	{ 0 },
};

static int resolve1(const char *key, const char *value, char *err, size_t n)
{
	bbt_kvlist_t given = { 0 };
	bbt_kvlist_set(&given, key, value, "test.ini:3");
	bbt_options_t *o = NULL;
	int rc = bbt_options_resolve(spec, "zo", &given, &o, err, n);
	bbt_options_free(o);
	bbt_kvlist_clear(&given);
	return rc;
}

int main(void)
{
	plan(24);
	char err[BBT_ERRLEN];
	bbt_options_t *o = NULL;

	is_int(bbt_options_resolve(spec, "zo", NULL, &o, err, sizeof err), BBT_OK, "defaults resolve");
	is_int(bbt_options_int(o, "q"), 10, "int default");
	is_double(bbt_options_double(o, "mu"), 0.01, 0, "double default");
	is_int(bbt_options_bool(o, "momentum"), 0, "bool default");
	is_string(bbt_options_string(o, "difference"), "forward", "choice default");
	is_string(bbt_options_string(o, "tag"), "", "string without default is empty");
	is_int((long long)bbt_options_count(o), 5, "every declared option listed");
	bbt_options_free(o);

	bbt_kvlist_t given = { 0 };
	bbt_kvlist_set(&given, "q", "20", "ini");
	bbt_kvlist_set(&given, "momentum", "yes", "ini");
	bbt_kvlist_set(&given, "q", "30", "command line");  /* later wins */
	bbt_kvlist_set(&given, "difference", "central", "command line");
	is_int((long long)given.n, 3, "a key set twice is kept once");
	is_string(bbt_kvlist_get(&given, "q")->origin, "command line", "the later origin kept");
	is_int(bbt_options_resolve(spec, "zo", &given, &o, err, sizeof err), BBT_OK, "given resolve");
	is_int(bbt_options_int(o, "q"), 30, "the later value wins");
	is_int(bbt_options_bool(o, "momentum"), 1, "yes is true");
	is_string(bbt_options_string(o, "difference"), "central", "choice given");
	is_string(bbt_options_key(o, 0), "q", "table order kept");
	is_string(bbt_options_text(o, 0), "30", "value as text");
	bbt_options_free(o);
	bbt_kvlist_clear(&given);

	is_int(resolve1("qq", "3", err, sizeof err), BBT_EINVAL, "unknown key refused");
	like(err, "zo: unknown option 'qq' (test.ini:3); known options: q, mu", "names key, origin, known keys");
	is_int(resolve1("q", "ten", err, sizeof err), BBT_EINVAL, "non-integer refused");
	like(err, "option q=ten (test.ini:3): expected an integer", "says what was expected");
	is_int(resolve1("q", "5000", err, sizeof err), BBT_EINVAL, "out of range refused");
	like(err, "expected a value in [1, 1000]", "states the range");
	is_int(resolve1("difference", "backward", err, sizeof err), BBT_EINVAL, "bad choice refused");
	like(err, "expected one of forward|central", "lists the choices");
	is_int(resolve1("momentum", "maybe", err, sizeof err), BBT_EINVAL, "bad bool refused");
	return done_testing();
}
