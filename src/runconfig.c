/*
 * runconfig.c - run settings: one table, INI files and -O options.
 */
#include "config.h"

#include <ctype.h>
#include <iniparser.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runconfig.h"
#include "util.h"

enum key_type { KEY_STRING, KEY_CHOICE, KEY_INT, KEY_DOUBLE };

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

/* Every run setting. Defaults follow the BBT paper (Sun et al. 2022):
 * P = 50 prompt tokens, d = 500, population 20, budget 8000 API calls,
 * 16 shots per class, dev evaluation every 100 calls. */
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
	{ "eval-every", KEY_INT, FIELD(eval_every), "100", NULL, 1, 1e12, "N",
	  "score the best-so-far on dev every N calls" },
	{ "calibrate", KEY_CHOICE, FIELD(calibrate), "no", "no|yes", 0, 0, "[yes|no]",
	  "also report the best prompt calibrated (offsets chosen on dev)" },
	{ "grad-check", KEY_CHOICE, FIELD(grad_check), "no", "no|yes", 0, 0, "[yes|no]",
	  "zo-sgd/zo-adam: compare each step's estimate with the backend's true gradient "
	  "(extra calls, not counted)" },
	{ "icl-shots", KEY_INT, FIELD(icl_shots), "1", NULL, 1, 1000, "N",
	  "--method icl: demonstrations per class, drawn from the train shots" },
	{ "out", KEY_STRING, FIELD(out), "results", NULL, 0, 0, "DIR",
	  "results root: runs go to DIR/EXPERIMENT/RUN-ID/" },
	{ "experiment", KEY_STRING, FIELD(experiment), "", NULL, 0, 0, "NAME",
	  "experiment folder under --out (default: the task's name)" },
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
	case KEY_STRING: {
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
		if (run_keys[i].type == KEY_STRING || run_keys[i].type == KEY_CHOICE)
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

/* iniparser reports through a callback without a context pointer, so its
 * last message is kept here; INI files are read on one thread only. */
static char ini_message[BBT_ERRLEN];

static int ini_error_callback(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(ini_message, sizeof ini_message, fmt, ap);
	va_end(ap);
	return n;
}

/* The line of the file text on which `key` is set inside [section], or,
 * with key NULL, the line of the [section] header itself; 0 if not found.
 * iniparser keeps no line numbers, and messages should have them. */
static size_t ini_line_of(const char *text, const char *section, const char *key)
{
	size_t line = 0, slen = strlen(section), klen = key ? strlen(key) : 0;
	int in_section = 0;
	for (const char *p = text; *p != '\0';) {
		line++;
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *s = p;
		while (s < p + len && isspace((unsigned char)*s))
			s++;
		if (*s == '[') {
			in_section = (size_t)(p + len - s) > slen + 1 &&
			             strncasecmp(s + 1, section, slen) == 0 && s[slen + 1] == ']';
			if (in_section && key == NULL)
				return line;
		} else if (in_section && key != NULL && strncasecmp(s, key, klen) == 0) {
			const char *after = s + klen;
			while (after < p + len && (*after == ' ' || *after == '\t'))
				after++;
			if (*after == '=' || *after == ':')
				return line;
		}
		p = end ? end + 1 : p + len;
	}
	return 0;
}

static int load_section(struct bbt_config *cfg, dictionary *ini, const char *path,
                        const char *text, const char *sec, char *err, size_t errlen)
{
	int nkeys = iniparser_getsecnkeys(ini, sec);
	if (nkeys <= 0)
		return BBT_OK;
	const char **keys = calloc((size_t)nkeys, sizeof *keys);
	if (keys == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	iniparser_getseckeys(ini, sec, keys);

	int is_run = strcmp(sec, "run") == 0;
	int rc = BBT_OK;
	for (int i = 0; i < nkeys && rc == BBT_OK; i++) {
		const char *full = keys[i];           /* "section:key" */
		const char *key = full + strlen(sec) + 1;
		const char *value = iniparser_getstring(ini, full, "");
		char origin[BBT_ERRLEN];
		snprintf(origin, sizeof origin, "%s:%zu", path, ini_line_of(text, sec, key));
		if (is_run) {
			rc = bbt_config_set(cfg, key, value, origin, err, errlen);
			if (rc == BBT_ENOTFOUND)
				bbt_error(err, errlen, BBT_EINVAL,
				          "%s: [run] has no setting '%s' (see `bbtbench --help`)", origin,
				          key);
		} else {
			char *qualified = bbt_asprintf("%s.%s", sec, key);
			if (qualified == NULL ||
			    bbt_kvlist_set(&cfg->ini_plugin_opts, qualified, value, origin) < 0)
				rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
			free(qualified);
		}
	}
	free(keys);
	return rc < 0 ? (rc == BBT_ENOTFOUND ? BBT_EINVAL : rc) : BBT_OK;
}

static int section_known(const char *sec)
{
	if (strcmp(sec, "run") == 0 || strcmp(sec, "optimizer") == 0 || strcmp(sec, "backend") == 0)
		return 1;
	return (strncmp(sec, "optimizer.", 10) == 0 && sec[10] != '\0' && !strchr(sec + 10, '.')) ||
	       (strncmp(sec, "backend.", 8) == 0 && sec[8] != '\0' && !strchr(sec + 8, '.'));
}

int bbt_config_load_ini(struct bbt_config *cfg, const char *path, char *err, size_t errlen)
{
	return bbt_config_load_ini_except(cfg, path, NULL, err, errlen);
}

int bbt_config_load_ini_except(struct bbt_config *cfg, const char *path, const char *skip,
                               char *err, size_t errlen)
{
	char *text;
	size_t len;
	int rc = bbt_file_read(path, &text, &len, err, errlen);
	if (rc < 0)
		return rc;
	size_t bad;
	if (!bbt_utf8_valid(text, len, &bad) || memchr(text, '\0', len) != NULL) {
		size_t line = 1;
		for (size_t i = 0; i < bad && i < len; i++)
			line += text[i] == '\n';
		free(text);
		return bbt_error(err, errlen, BBT_EFORMAT, "%s:%zu: not UTF-8 text", path, line);
	}

	ini_message[0] = '\0';
	iniparser_set_error_callback(ini_error_callback);
	dictionary *ini = iniparser_load(path);
	iniparser_set_error_callback(NULL);
	if (ini == NULL) {
		int line = 0;
		const char *at = strstr(ini_message, "(");
		if (at != NULL)
			sscanf(at, "(%d)", &line);
		const char *what = strstr(ini_message, "-> ");
		char snippet[128] = "";
		if (what != NULL) {
			snprintf(snippet, sizeof snippet, "%s", what + 3);
			snippet[strcspn(snippet, "\n")] = '\0';
		}
		free(text);
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s:%d: INI syntax error: '%s' (expected [section] or key = value)",
		                 path, line, snippet);
	}

	rc = BBT_OK;
	int nsec = iniparser_getnsec(ini);
	for (int s = 0; s < nsec && rc == BBT_OK; s++) {
		const char *sec = iniparser_getsecname(ini, s);
		if (skip != NULL && strcasecmp(sec, skip) == 0)
			continue;  /* the caller reads this section itself */
		if (!section_known(sec)) {
			size_t line = ini_line_of(text, sec, NULL);
			rc = bbt_error(err, errlen, BBT_EINVAL,
			               "%s:%zu: unknown section [%s] (expected [run], [optimizer], "
			               "[optimizer.NAME], [backend] or [backend.NAME])",
			               path, line, sec);
			break;
		}
		rc = load_section(cfg, ini, path, text, sec, err, errlen);
	}
	/* Keys before any section land in iniparser's unnamed section. */
	if (rc == BBT_OK && iniparser_getsecnkeys(ini, "") > 0)
		rc = bbt_error(err, errlen, BBT_EINVAL,
		               "%s: settings before the first [section]; put them under [run]", path);
	iniparser_freedict(ini);
	free(text);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Output */

static void value_text(const struct bbt_config *cfg, const struct run_key *k, char *buf,
                       size_t n)
{
	switch (k->type) {
	case KEY_STRING:
	case KEY_CHOICE:
		snprintf(buf, n, "%s", cstr_field(cfg, k));
		break;
	case KEY_INT:
		snprintf(buf, n, "%ld", *(const long *)((const char *)cfg + k->offset));
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
		case KEY_CHOICE: v = json_string(cstr_field(cfg, k)); break;
		case KEY_INT: v = json_integer(*(const long *)p); break;
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
