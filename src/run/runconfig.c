/*
 * runconfig.c - run settings: one table, INI files and -O options.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/runconfig.h"
#include "core/util.h"

/* KEY_NAME: a string that becomes a folder of a results path, so a plain
 * word (bbt_name_is_plain), or empty for the setting's fallback. */
enum key_type { KEY_STRING, KEY_NAME, KEY_CHOICE, KEY_INT, KEY_DOUBLE };

struct run_key {
	const char *name;
	enum key_type type;
	size_t offset;
	const char *def;
	const char *choices;  /* KEY_CHOICE: "a|b" */
	double min, max;      /* numeric range, inclusive */
	const char *metavar;
	const char *help;
};

#define FIELD(f) offsetof(struct bbt_config, f)

/* Dev evaluations when --eval-every is 0: about 20 per run (a short run
 * compares as many prompts on dev as a long one), never further apart than
 * the BBT paper's 100 calls (its 8000-call runs keep their 80), and on
 * whole generations of --popsize so that each one sees a generation's end. */
static long eval_every_default(const struct bbt_config *cfg)
{
	long n = cfg->budget / 20 + (cfg->budget % 20 != 0);
	if (n > 100)
		n = 100;
	long g = cfg->popsize > 0 ? cfg->popsize : 1;
	return (n + g - 1) / g * g;
}

/* Every run setting. Defaults follow the BBT paper (Sun et al. 2022):
 * P = 50 prompt tokens, d = 500, population 20, budget 8000 API calls,
 * 16 shots per class, dev evaluation every 100 calls (at that budget). */
static const struct run_key run_keys[] = {
	{ "method", KEY_CHOICE, FIELD(method), "tune", "tune|manual|calibrated|icl", 0, 0, "M",
	  "tune a prompt, or a baseline: manual prompt, calibrated, in-context learning" },
	{ "optimizer", KEY_STRING, FIELD(optimizer), "cmaes", NULL, 0, 0, "NAME",
	  "optimizer plugin (see `bbtbench list`)" },
	{ "backend", KEY_STRING, FIELD(backend), "synthetic", NULL, 0, 0, "NAME",
	  "model backend plugin" },
	{ "model", KEY_STRING, FIELD(model), "", NULL, 0, 0, "FILE",
	  "model file for the backend (GGUF); none for synthetic" },
	{ "task", KEY_STRING, FIELD(task), "toy", NULL, 0, 0, "NAME|FILE",
	  "task name from tasks/ or a task YAML file" },
	{ "data-dir", KEY_STRING, FIELD(data_dir), "data", NULL, 0, 0, "DIR",
	  "where the data sets are unpacked (default $BBTBENCH_DATA or data)" },
	{ "split-source", KEY_CHOICE, FIELD(split_source), "auto", "auto|full|kshot", 0, 0,
	  "SRC", "few-shot split: sample from the full train file, or the published k-shot folder" },
	{ "k-shot", KEY_INT, FIELD(k_shot), "16", NULL, 1, 1e6, "K",
	  "training (and dev) examples per class" },
	{ "seed", KEY_INT, FIELD(seed), "42", NULL, 0, 4294967295.0, "N",
	  "run seed: optimizer, projection" },
	{ "data-seed", KEY_INT, FIELD(data_seed), "-1", NULL, -1, 4294967295.0, "N",
	  "few-shot split seed (-1: the run seed)" },
	{ "dim", KEY_INT, FIELD(dim), "500", NULL, 1, 1e6, "D",
	  "subspace dimension d" },
	{ "prompt-len", KEY_INT, FIELD(prompt_len), "50", NULL, 0, 1e5, "P",
	  "prompt tokens P (0: no prompt)" },
	{ "prompt-layers", KEY_CHOICE, FIELD(prompt_layers), "1", "1|all", 0, 0, "1|all",
	  "1: a prompt at the input (BBT); all: one prompt per layer, added (BBTv2)" },
	{ "schedule", KEY_CHOICE, FIELD(schedule), "layerwise", "layerwise|joint", 0, 0, "KIND",
	  "--prompt-layers all: how layers are tuned; layerwise: one generation per layer, "
	  "bottom to top, each round (BBTv2); joint: one optimizer over all layers' z" },
	{ "search-space", KEY_INT, FIELD(search_space), "200", NULL, 1, 1e6, "K",
	  "discrete prompts (BDPL): candidate n-grams per prompt position" },
	{ "projection", KEY_CHOICE, FIELD(projection), "normal", "normal|uniform", 0, 0, "KIND",
	  "distribution of the random projection A" },
	{ "alpha", KEY_DOUBLE, FIELD(alpha), "1", NULL, 1e-12, 1e12, "A",
	  "scale of A: std = alpha * embed_std / (sqrt(d) * sigma)" },
	{ "sigma", KEY_DOUBLE, FIELD(sigma), "1", NULL, 1e-12, 1e12, "S",
	  "optimizer's initial step size sigma0" },
	{ "popsize", KEY_INT, FIELD(popsize), "20", NULL, 0, 1e6, "N",
	  "candidates per generation (0: the optimizer's default)" },
	{ "budget", KEY_INT, FIELD(budget), "8000", NULL, 1, 1e12, "N",
	  "API calls (one candidate over the train batch)" },
	{ "loss", KEY_CHOICE, FIELD(loss), "ce", "ce|hinge|perf", 0, 0, "LOSS",
	  "training loss on the label-word logits" },
	{ "eval-every", KEY_INT, FIELD(eval_every), "0", NULL, 0, 1e12, "N",
	  "score the best-so-far on dev every N calls; 0: budget/20 calls, at most 100, "
	  "rounded up to whole generations of --popsize" },
	{ "calibrate", KEY_CHOICE, FIELD(calibrate), "no", "no|yes", 0, 0, "[yes|no]",
	  "also report the best prompt calibrated (offsets chosen on dev)" },
	{ "grad-check", KEY_CHOICE, FIELD(grad_check), "no", "no|yes", 0, 0, "[yes|no]",
	  "zo-sgd/zo-adam: compare each step's estimate with the backend's true gradient "
	  "(extra calls, not counted)" },
	{ "init-prompt", KEY_STRING, FIELD(init_prompt), "", NULL, 0, 0, "RUN_DIR",
	  "start from a finished run's saved prompt (its z is the optimizer's x0; the same d "
	  "and projection)" },
	{ "icl-shots", KEY_INT, FIELD(icl_shots), "1", NULL, 1, 1000, "N",
	  "--method icl: demonstrations per class, drawn from the train shots" },
	{ "out", KEY_STRING, FIELD(out), "results", NULL, 0, 0, "DIR",
	  "results root: runs go to DIR/EXPERIMENT/RUN-ID/" },
	{ "experiment", KEY_NAME, FIELD(experiment), "", NULL, 0, 0, "NAME",
	  "experiment folder under --out (default: the task's name); " BBT_PLAIN_WORD },
};

#define N_KEYS (sizeof run_keys / sizeof run_keys[0])

static char **str_field(struct bbt_config *cfg, const struct run_key *k)
{
	return (char **)((char *)cfg + k->offset);
}

static const char *cstr_field(const struct bbt_config *cfg, const struct run_key *k)
{
	return *(char *const *)((const char *)cfg + k->offset);
}

static const struct run_key *key_find(const char *name)
{
	char norm[64];
	size_t i = 0;
	for (; name[i] != '\0' && i < sizeof norm - 1; i++)
		norm[i] = name[i] == '_' ? '-' : (char)tolower((unsigned char)name[i]);
	norm[i] = '\0';
	for (size_t k = 0; k < N_KEYS; k++)
		if (strcmp(run_keys[k].name, norm) == 0)
			return &run_keys[k];
	return NULL;
}

int bbt_config_set(struct bbt_config *cfg, const char *key, const char *value,
                   const char *origin, char *err, size_t errlen)
{
	const struct run_key *k = key_find(key);
	if (k == NULL)
		return bbt_error(err, errlen, BBT_ENOTFOUND, "%s: unknown run setting '%s'", origin,
		                 key);
	long iv = 0;
	double dv = 0;
	switch (k->type) {
	case KEY_CHOICE:
		if (!bbt_choice_valid(k->choices, value))
			return bbt_error(err, errlen, BBT_EINVAL, "%s: %s '%s': expected one of %s",
			                 origin, k->name, value, k->choices);
		/* fall through */
	case KEY_NAME:
	case KEY_STRING: {
		if (k->type == KEY_NAME && value[0] != '\0' && !bbt_name_is_plain(value))
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "%s: %s '%s': expected " BBT_PLAIN_WORD
			                 ", as it names a folder under --out",
			                 origin, k->name, value);
		char *copy = bbt_strdup(value);
		if (copy == NULL)
			return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		free(*str_field(cfg, k));
		*str_field(cfg, k) = copy;
		break;
	}
	case KEY_INT:
		if (bbt_parse_long(value, &iv) != 0 || iv < k->min || iv > k->max)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "%s: %s '%s': expected an integer in [%.0f, %.0f]", origin,
			                 k->name, value, k->min, k->max);
		*(long *)((char *)cfg + k->offset) = iv;
		break;
	case KEY_DOUBLE:
		if (bbt_parse_double(value, &dv) != 0 || dv < k->min || dv > k->max)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "%s: %s '%s': expected a number in [%g, %g]", origin, k->name,
			                 value, k->min, k->max);
		*(double *)((char *)cfg + k->offset) = dv;
		break;
	}
	char *o = bbt_strdup(origin);
	if (o == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	size_t idx = (size_t)(k - run_keys);
	free(cfg->origin[idx]);
	cfg->origin[idx] = o;
	return BBT_OK;
}

const char *bbt_config_origin(const struct bbt_config *cfg, const char *key)
{
	const struct run_key *k = key_find(key);
	return k ? cfg->origin[k - run_keys] : NULL;
}

void bbt_config_error_origin(const struct bbt_config *cfg, const char *key, char *err,
                             size_t errlen)
{
	/* File origins are "FILE:LINE"; the others are words ("command line"). */
	const char *origin = bbt_config_origin(cfg, key);
	const char *colon = origin ? strrchr(origin, ':') : NULL;
	if (colon != NULL && colon[1] != '\0' && strspn(colon + 1, "0123456789") == strlen(colon + 1))
		bbt_error_prefix(err, errlen, "%s", origin);
}

int bbt_config_init(struct bbt_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->origin = calloc(N_KEYS, sizeof *cfg->origin);
	if (cfg->origin == NULL)
		return BBT_ENOMEM;
	for (size_t i = 0; i < N_KEYS; i++) {
		if (bbt_config_set(cfg, run_keys[i].name, run_keys[i].def, "default", NULL, 0) < 0) {
			bbt_config_release(cfg);
			return BBT_ENOMEM;
		}
	}
	const char *data = getenv("BBTBENCH_DATA");
	if (data != NULL && data[0] != '\0' &&
	    bbt_config_set(cfg, "data-dir", data, "BBTBENCH_DATA", NULL, 0) < 0) {
		bbt_config_release(cfg);
		return BBT_ENOMEM;
	}
	return BBT_OK;
}

void bbt_config_release(struct bbt_config *cfg)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (run_keys[i].type == KEY_STRING || run_keys[i].type == KEY_NAME ||
		    run_keys[i].type == KEY_CHOICE)
			free(*str_field(cfg, &run_keys[i]));
		if (cfg->origin != NULL)
			free(cfg->origin[i]);
	}
	free(cfg->origin);
	bbt_kvlist_clear(&cfg->ini_plugin_opts);
	bbt_kvlist_clear(&cfg->cli_plugin_opts);
	memset(cfg, 0, sizeof *cfg);
}

long bbt_config_data_seed(const struct bbt_config *cfg)
{
	return cfg->data_seed >= 0 ? cfg->data_seed : cfg->seed;
}

/* ------------------------------------------------------------------ */
/* Plugin options */

static int kind_prefix_ok(const char *key)
{
	const char *dot = strchr(key, '.');
	if (dot == NULL)
		return 1;
	size_t n = (size_t)(dot - key);
	return dot[1] != '\0' &&
	       ((n == 9 && strncmp(key, "optimizer", 9) == 0) ||
	        (n == 7 && strncmp(key, "backend", 7) == 0));
}

int bbt_config_add_cli_option(struct bbt_config *cfg, const char *assignment,
                              char *err, size_t errlen)
{
	const char *eq = strchr(assignment, '=');
	if (eq == NULL || eq == assignment)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "-O %s: expected KEY=VALUE (e.g. -O optimizer.q=20)", assignment);
	char *key = bbt_strndup(assignment, (size_t)(eq - assignment));
	if (key == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	int rc = BBT_OK;
	if (!kind_prefix_ok(key))
		rc = bbt_error(err, errlen, BBT_EINVAL,
		               "-O %s: a prefixed key must start with 'optimizer.' or 'backend.'",
		               assignment);
	else if (bbt_kvlist_set(&cfg->cli_plugin_opts, key, eq + 1, "command line -O") < 0)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	free(key);
	return rc;
}

/* Copy the pairs of `from` whose key is `prefix` + k into out as k. */
static int take_prefixed(bbt_kvlist_t *out, const bbt_kvlist_t *from, const char *prefix)
{
	size_t len = strlen(prefix);
	for (size_t i = 0; i < from->n; i++) {
		const struct bbt_kv *kv = &from->items[i];
		const char *rest = kv->key + len;
		if (strncmp(kv->key, prefix, len) == 0 && strchr(rest, '.') == NULL &&
		    bbt_kvlist_set(out, rest, kv->value, kv->origin) < 0)
			return BBT_ENOMEM;
	}
	return BBT_OK;
}

int bbt_config_plugin_options(const struct bbt_config *cfg, enum bbt_plugin_kind kind,
                              const char *name, const struct bbt_option_spec *spec,
                              const struct bbt_option_spec *other_spec, bbt_kvlist_t *out,
                              char *err, size_t errlen)
{
	const char *kname = kind == BBT_PLUGIN_OPTIMIZER ? "optimizer" : "backend";
	char generic[32], named[160];
	snprintf(generic, sizeof generic, "%s.", kname);
	snprintf(named, sizeof named, "%s.%s.", kname, name);

	bbt_kvlist_clear(out);
	const bbt_kvlist_t *lists[] = { &cfg->ini_plugin_opts, &cfg->cli_plugin_opts };
	for (size_t l = 0; l < 2; l++) {
		if (take_prefixed(out, lists[l], generic) < 0 || take_prefixed(out, lists[l], named) < 0)
			return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	/* Bare -O keys: they belong to whichever selected plugin declares them. */
	for (size_t i = 0; i < cfg->cli_plugin_opts.n; i++) {
		const struct bbt_kv *kv = &cfg->cli_plugin_opts.items[i];
		if (strchr(kv->key, '.') != NULL)
			continue;
		int mine = bbt_options_declares(spec, kv->key);
		int theirs = bbt_options_declares(other_spec, kv->key);
		if (mine && theirs)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "-O %s: both the optimizer and the backend take '%s'; write "
			                 "-O optimizer.%s=... or -O backend.%s=...",
			                 kv->key, kv->key, kv->key, kv->key);
		if (!mine && !theirs)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "-O %s: neither the optimizer nor the backend takes '%s' "
			                 "(see `bbtbench list --options`)",
			                 kv->key, kv->key);
		if (mine && bbt_kvlist_set(out, kv->key, kv->value, kv->origin) < 0)
			return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	return BBT_OK;
}

/* ------------------------------------------------------------------ */
/* INI files */

/* Where a value or a line ends: ';' and '#' start a comment. */
static int at_comment_or_end(const char *s)
{
	return *s == '\0' || *s == ';' || *s == '#';
}

/* "[NAME]", a comment allowed after it; *name lowercased, inside s. */
static int scan_section(const char *path, size_t line, char *s, char **name, char *err,
                        size_t errlen)
{
	char *close = strchr(s, ']');
	if (close == NULL || !at_comment_or_end(bbt_trim(close + 1)))
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s:%zu: '%s': expected ']' at the end of a section line", path, line,
		                 s);
	*close = '\0';
	char *n = bbt_trim(s + 1);
	if (*n == '\0')
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s:%zu: a section needs a name between '[' and ']'", path, line);
	for (char *c = n; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	*name = n;
	return BBT_OK;
}

/* "KEY = VALUE": a quoted value ('...' or "...") keeps ';' and '#', an
 * unquoted one ends at a comment. */
static int scan_assignment(const char *path, size_t line, char *s, const char **key,
                           const char **value, char *err, size_t errlen)
{
	char *eq = strchr(s, '=');
	if (eq == NULL || eq == s)
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s:%zu: '%s': expected [SECTION] or KEY = VALUE", path, line, s);
	*eq = '\0';
	*key = bbt_trim(s);
	char *v = bbt_trim(eq + 1);
	if (*v == '"' || *v == '\'') {
		char *close = strchr(v + 1, *v);
		if (close == NULL || !at_comment_or_end(bbt_trim(close + 1)))
			return bbt_error(err, errlen, BBT_EFORMAT,
			                 "%s:%zu: %s: a value that starts with %c must end with it "
			                 "(only a comment may follow)",
			                 path, line, *key, *v);
		*close = '\0';
		v++;
	} else {
		v[strcspn(v, ";#")] = '\0';
		v = bbt_trim(v);
	}
	*value = v;
	return BBT_OK;
}

int bbt_ini_scan_file(const char *path, bbt_ini_line_fn *each, void *ctx, char *err,
                      size_t errlen)
{
	char *text;
	size_t len;
	int rc = bbt_file_read(path, &text, &len, err, errlen);
	if (rc < 0)
		return rc;
	size_t bad;
	const char *nul = memchr(text, '\0', len);
	if (!bbt_utf8_valid(text, len, &bad) || nul != NULL) {
		if (nul != NULL && (size_t)(nul - text) < bad)
			bad = (size_t)(nul - text);
		size_t line = 1;
		for (size_t i = 0; i < bad && i < len; i++)
			line += text[i] == '\n';
		free(text);
		return bbt_error(err, errlen, BBT_EFORMAT, "%s:%zu: not UTF-8 text", path, line);
	}

	/* Some editors start UTF-8 with a byte-order mark; it is not text. */
	char *p = text;
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	struct bbt_ini_line l = { 0 };
	char *section = NULL;  /* points into text, which lives until the end */
	while (rc == BBT_OK && p != NULL) {
		char *nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		char *s = bbt_trim(p);
		p = nl ? nl + 1 : NULL;
		l.line++;
		if (at_comment_or_end(s))
			continue;
		if (*s == '[') {
			rc = scan_section(path, l.line, s, &section, err, errlen);
			l.key = l.value = NULL;
		} else {
			rc = scan_assignment(path, l.line, s, &l.key, &l.value, err, errlen);
			if (rc == BBT_OK && section == NULL)
				rc = bbt_error(err, errlen, BBT_EFORMAT,
				               "%s:%zu: '%s' is outside any section (run settings go under "
				               "[run])",
				               path, l.line, l.key);
		}
		l.section = section;
		if (rc == BBT_OK)
			rc = each(&l, ctx, err, errlen);
	}
	free(text);
	return rc;
}

static int section_known(const char *sec)
{
	if (strcmp(sec, "run") == 0 || strcmp(sec, "optimizer") == 0 || strcmp(sec, "backend") == 0)
		return 1;
	return (strncmp(sec, "optimizer.", 10) == 0 && sec[10] != '\0' && !strchr(sec + 10, '.')) ||
	       (strncmp(sec, "backend.", 8) == 0 && sec[8] != '\0' && !strchr(sec + 8, '.'));
}

struct ini_load {
	struct bbt_config *cfg;
	const char *path;
	const char *skip;     /* sections the caller reads itself, space-separated, or NULL */
	bbt_kvlist_t seen;    /* "section.key" -> the number of the line that set it */
};

/* 1 when section is one of the space-separated words of skip. */
static int skipped(const char *skip, const char *section)
{
	size_t n = strlen(section);
	for (const char *s = skip; s != NULL && *s != '\0'; s += strspn(s, " ")) {
		size_t w = strcspn(s, " ");
		if (w == n && strncmp(s, section, n) == 0)
			return 1;
		s += w;
	}
	return 0;
}

static int load_line(const struct bbt_ini_line *l, void *ctx, char *err, size_t errlen)
{
	struct ini_load *ld = ctx;
	if (skipped(ld->skip, l->section))
		return BBT_OK;
	if (l->key == NULL)
		return section_known(l->section)
		           ? BBT_OK
		           : bbt_error(err, errlen, BBT_EINVAL,
		                       "%s:%zu: unknown section [%s] (expected [run], [optimizer], "
		                       "[optimizer.NAME], [backend] or [backend.NAME])",
		                       ld->path, l->line, l->section);

	char origin[BBT_ERRLEN];
	snprintf(origin, sizeof origin, "%s:%zu", ld->path, l->line);
	int is_run = strcmp(l->section, "run") == 0;
	const struct run_key *rk = is_run ? key_find(l->key) : NULL;
	if (is_run && rk == NULL)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: [run] has no setting '%s' (see `bbtbench --help`)", origin,
		                 l->key);
	/* Run settings by their table name (k_shot is k-shot), plugin options
	 * without case, as "section.key": the name a setting is known by. */
	char *qualified = bbt_asprintf("%s.%s", l->section, rk ? rk->name : l->key);
	if (qualified == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (char *c = qualified; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);

	/* A key set twice is a mistake that one of the two lines hides:
	 * refuse it, as [grid] does. */
	int rc = BBT_OK;
	const struct bbt_kv *first = bbt_kvlist_get(&ld->seen, qualified);
	char line_text[32];
	snprintf(line_text, sizeof line_text, "%zu", l->line);
	if (first != NULL)
		rc = bbt_error(err, errlen, BBT_EINVAL, "%s: '%s' is set twice in [%s] (first on line %s)",
		               origin, l->key, l->section, first->value);
	else if (bbt_kvlist_set(&ld->seen, qualified, line_text, origin) < 0)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	else if (is_run)
		rc = bbt_config_set(ld->cfg, rk->name, l->value, origin, err, errlen);
	else if (bbt_kvlist_set(&ld->cfg->ini_plugin_opts, qualified, l->value, origin) < 0)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	free(qualified);
	return rc;
}

int bbt_config_load_ini(struct bbt_config *cfg, const char *path, char *err, size_t errlen)
{
	return bbt_config_load_ini_except(cfg, path, NULL, err, errlen);
}

int bbt_config_load_ini_except(struct bbt_config *cfg, const char *path, const char *skip,
                               char *err, size_t errlen)
{
	struct ini_load ld = { .cfg = cfg, .path = path, .skip = skip };
	int rc = bbt_ini_scan_file(path, load_line, &ld, err, errlen);
	bbt_kvlist_clear(&ld.seen);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Output */

/* Integer settings whose 0 stands for a value derived from the others;
 * config.ini, result.json and the run id see that value. */
static const struct {
	size_t offset;
	long (*derive)(const struct bbt_config *cfg);
} derived[] = { { FIELD(eval_every), eval_every_default } };

static long int_value(const struct bbt_config *cfg, const struct run_key *k)
{
	long v = *(const long *)((const char *)cfg + k->offset);
	for (size_t i = 0; v == 0 && i < sizeof derived / sizeof derived[0]; i++)
		if (derived[i].offset == k->offset)
			return derived[i].derive(cfg);
	return v;
}

long bbt_config_eval_every(const struct bbt_config *cfg)
{
	return int_value(cfg, key_find("eval-every"));
}

static void value_text(const struct bbt_config *cfg, const struct run_key *k, char *buf,
                       size_t n)
{
	switch (k->type) {
	case KEY_STRING:
	case KEY_NAME:
	case KEY_CHOICE:
		snprintf(buf, n, "%s", cstr_field(cfg, k));
		break;
	case KEY_INT:
		snprintf(buf, n, "%ld", int_value(cfg, k));
		break;
	case KEY_DOUBLE:
		snprintf(buf, n, "%.17g", *(const double *)((const char *)cfg + k->offset));
		break;
	}
}

int bbt_config_write_run_section(const struct bbt_config *cfg, FILE *f)
{
	fprintf(f, "[run]\n");
	for (size_t i = 0; i < N_KEYS; i++) {
		char buf[1024];
		value_text(cfg, &run_keys[i], buf, sizeof buf);
		fprintf(f, "%s = %s\n", run_keys[i].name, buf);
	}
	return ferror(f) ? BBT_EIO : BBT_OK;
}

json_t *bbt_config_to_json(const struct bbt_config *cfg)
{
	json_t *o = json_object();
	for (size_t i = 0; o != NULL && i < N_KEYS; i++) {
		const struct run_key *k = &run_keys[i];
		const void *p = (const char *)cfg + k->offset;
		json_t *v = NULL;
		switch (k->type) {
		case KEY_STRING:
		case KEY_NAME:
		case KEY_CHOICE: v = json_string(cstr_field(cfg, k)); break;
		case KEY_INT: v = json_integer(int_value(cfg, k)); break;
		case KEY_DOUBLE: v = json_real(*(const double *)p); break;
		}
		json_object_set_new(o, k->name, v);
	}
	return o;
}

size_t bbt_config_key_count(void)
{
	return N_KEYS;
}

const char *bbt_config_key_name(size_t i)
{
	return run_keys[i].name;
}

const char *bbt_config_key_help(size_t i)
{
	return run_keys[i].help;
}

const char *bbt_config_key_default(size_t i)
{
	return run_keys[i].def;
}

const char *bbt_config_key_metavar(size_t i)
{
	return run_keys[i].metavar;
}

int bbt_config_key_is_flag(size_t i)
{
	return run_keys[i].type == KEY_CHOICE && strcmp(run_keys[i].choices, "no|yes") == 0;
}
