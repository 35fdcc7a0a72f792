/*
 * grid.c - grid files, their combinations, and running them (in this
 * process or in worker processes, whole or as one shard).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "experiments/grid.h"
#include "core/log.h"
#include "run/results.h"
#include "run/run.h"
#include "core/util.h"

/* Sanity bound: a grid this large is a typo, not an experiment. */
#define MAX_COMBOS 1000000

enum key_kind { GK_RUN, GK_OPTIMIZER, GK_BACKEND };

struct gkey {
	char *name;          /* as written */
	char *plugin;        /* optimizer.NAME.KEY: NAME; else NULL */
	enum key_kind kind;
	size_t line;
	char **values;
	size_t nvalues;
};

struct cond {
	size_t key, value;
};

struct exclude {
	struct cond *conds;
	size_t n, line;
};

struct bbt_grid {
	char *path;
	char *experiment;
	char *optimizer, *backend;  /* the fixed sections' plugins */
	char *method;               /* the fixed sections' method */
	struct gkey *keys;
	size_t nkeys;
	struct exclude *ex;
	size_t nex;
	size_t *combos;              /* count x nkeys value indices; SIZE_MAX: not used */
	size_t count;
};

static void gkey_release(struct gkey *k)
{
	free(k->name);
	free(k->plugin);
	for (size_t v = 0; v < k->nvalues; v++)
		free(k->values[v]);
	free(k->values);
}

void bbt_grid_free(bbt_grid_t *g)
{
	if (g == NULL)
		return;
	for (size_t k = 0; k < g->nkeys; k++)
		gkey_release(&g->keys[k]);
	free(g->keys);
	for (size_t e = 0; e < g->nex; e++)
		free(g->ex[e].conds);
	free(g->ex);
	free(g->combos);
	free(g->path);
	free(g->experiment);
	free(g->optimizer);
	free(g->backend);
	free(g->method);
	free(g);
}

/* ------------------------------------------------------------------ */
/* Parsing [grid] */

/* The run-settings table's name for `name` ('_' or '-', any case), or NULL. */
static const char *run_key_name(const char *name)
{
	char norm[64];
	size_t i = 0;
	for (; name[i] != '\0' && i < sizeof norm - 1; i++)
		norm[i] = name[i] == '_' ? '-' : (char)tolower((unsigned char)name[i]);
	norm[i] = '\0';
	for (size_t k = 0; k < bbt_config_key_count(); k++)
		if (strcmp(bbt_config_key_name(k), norm) == 0)
			return bbt_config_key_name(k);
	return NULL;
}

static ssize_t find_key(const bbt_grid_t *g, const char *name)
{
	const char *rk = run_key_name(name);
	for (size_t k = 0; k < g->nkeys; k++) {
		if (strcmp(g->keys[k].name, name) == 0)
			return (ssize_t)k;
		if (rk != NULL && g->keys[k].kind == GK_RUN && run_key_name(g->keys[k].name) == rk)
			return (ssize_t)k;
	}
	return -1;
}

static int add_key(bbt_grid_t *g, const char *name, const char *list, size_t line, char *err,
                   size_t errlen)
{
	const char *path = g->path;
	if (find_key(g, name) >= 0)
		return bbt_error(err, errlen, BBT_EINVAL, "%s:%zu: grid key '%s' given twice", path,
		                 line, name);
	struct gkey k = { .line = line };
	const char *dot = strchr(name, '.');
	if (dot != NULL) {
		size_t n = (size_t)(dot - name);
		if (n == 9 && strncmp(name, "optimizer", 9) == 0)
			k.kind = GK_OPTIMIZER;
		else if (n == 7 && strncmp(name, "backend", 7) == 0)
			k.kind = GK_BACKEND;
		else
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "%s:%zu: grid key '%s': a plugin option is optimizer.KEY, "
			                 "optimizer.NAME.KEY, backend.KEY or backend.NAME.KEY",
			                 path, line, name);
		const char *rest = dot + 1, *dot2 = strchr(rest, '.');
		if (*rest == '\0' || (dot2 != NULL && (dot2 == rest || dot2[1] == '\0' ||
		                                      strchr(dot2 + 1, '.') != NULL)))
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "%s:%zu: grid key '%s': expected %s.KEY or %s.NAME.KEY", path,
			                 line, name, k.kind == GK_OPTIMIZER ? "optimizer" : "backend",
			                 k.kind == GK_OPTIMIZER ? "optimizer" : "backend");
		if (dot2 != NULL && (k.plugin = bbt_strndup(rest, (size_t)(dot2 - rest))) == NULL)
			return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	} else {
		const char *rk = run_key_name(name);
		if (rk == NULL)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "%s:%zu: grid key '%s' is neither a run setting (see "
			                 "`bbtbench run --help`) nor a plugin option (optimizer.KEY, "
			                 "backend.KEY)",
			                 path, line, name);
		if (strcmp(rk, "out") == 0 || strcmp(rk, "experiment") == 0 ||
		    strcmp(rk, "data-dir") == 0)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "%s:%zu: '%s' cannot vary in a grid: it says where files are, "
			                 "not what a run does; set it in [run]",
			                 path, line, rk);
		k.kind = GK_RUN;
	}
	if ((k.name = bbt_strdup(name)) == NULL) {
		free(k.plugin);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}

	/* The values: comma-separated, each checked now so that a typo is
	 * reported before any run starts. */
	int rc = BBT_OK;
	char *copy = bbt_strdup(list);
	if (copy == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (char *save = NULL, *tok = copy ? strtok_r(copy, ",", &save) : NULL;
	     rc == BBT_OK && tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *v = bbt_trim(tok);
		if (*v == '\0') {
			rc = bbt_error(err, errlen, BBT_EINVAL, "%s:%zu: %s: an empty value in the list",
			               path, line, name);
			break;
		}
		for (size_t i = 0; i < k.nvalues; i++)
			if (strcmp(k.values[i], v) == 0)
				rc = bbt_error(err, errlen, BBT_EINVAL, "%s:%zu: %s: value '%s' listed twice",
				               path, line, name, v);
		if (rc == BBT_OK && k.kind == GK_RUN) {
			char origin[BBT_ERRLEN];
			snprintf(origin, sizeof origin, "%s:%zu", path, line);
			struct bbt_config check;
			if (bbt_config_init(&check) < 0)
				rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
			else
				rc = bbt_config_set(&check, name, v, origin, err, errlen);
			bbt_config_release(&check);
		}
		if (rc != BBT_OK)
			break;
		char **vals = realloc(k.values, (k.nvalues + 1) * sizeof *vals);
		if (vals == NULL || (vals[k.nvalues] = bbt_strdup(v)) == NULL) {
			if (vals != NULL)
				k.values = vals;
			rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
			break;
		}
		k.values = vals;
		k.nvalues++;
	}
	free(copy);
	if (rc == BBT_OK && k.nvalues == 0)
		rc = bbt_error(err, errlen, BBT_EINVAL, "%s:%zu: %s: no values", path, line, name);
	struct gkey *keys = rc == BBT_OK ? realloc(g->keys, (g->nkeys + 1) * sizeof *keys) : NULL;
	if (rc == BBT_OK && keys == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if (rc != BBT_OK) {
		gkey_release(&k);
		return rc;
	}
	g->keys = keys;
	g->keys[g->nkeys++] = k;
	return BBT_OK;
}

/* "exclude = KEY=VALUE, KEY=VALUE": parsed once every key is known. */
static int add_exclude(bbt_grid_t *g, const char *text, size_t line, char *err, size_t errlen)
{
	struct exclude e = { .line = line };
	char *copy = bbt_strdup(text);
	int rc = copy ? BBT_OK : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (char *save = NULL, *tok = copy ? strtok_r(copy, ", \t", &save) : NULL;
	     rc == BBT_OK && tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
		char *eq = strchr(tok, '=');
		if (eq == NULL || eq == tok) {
			rc = bbt_error(err, errlen, BBT_EINVAL,
			               "%s:%zu: exclude: '%s': expected KEY=VALUE (e.g. exclude = "
			               "optimizer=cmaes, dim=1000)",
			               g->path, line, tok);
			break;
		}
		*eq = '\0';
		ssize_t k = find_key(g, tok);
		if (k < 0) {
			rc = bbt_error(err, errlen, BBT_EINVAL,
			               "%s:%zu: exclude: '%s' is not a key of [grid]", g->path, line, tok);
			break;
		}
		size_t v = 0;
		while (v < g->keys[k].nvalues && strcmp(g->keys[k].values[v], eq + 1) != 0)
			v++;
		if (v == g->keys[k].nvalues) {
			rc = bbt_error(err, errlen, BBT_EINVAL,
			               "%s:%zu: exclude: %s=%s: '%s' is not one of the values of %s",
			               g->path, line, tok, eq + 1, eq + 1, tok);
			break;
		}
		struct cond *c = realloc(e.conds, (e.n + 1) * sizeof *c);
		if (c == NULL) {
			rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
			break;
		}
		e.conds = c;
		e.conds[e.n++] = (struct cond){ (size_t)k, v };
	}
	free(copy);
	if (rc == BBT_OK && e.n == 0)
		rc = bbt_error(err, errlen, BBT_EINVAL, "%s:%zu: exclude: no KEY=VALUE", g->path, line);
	struct exclude *ex = rc == BBT_OK ? realloc(g->ex, (g->nex + 1) * sizeof *ex) : NULL;
	if (rc == BBT_OK && ex == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if (rc != BBT_OK) {
		free(e.conds);
		return rc;
	}
	g->ex = ex;
	g->ex[g->nex++] = e;
	return BBT_OK;
}

struct pending_exclude {
	char *text;
	size_t line;
};

struct grid_scan {
	bbt_grid_t *g;
	int seen_grid;
	struct pending_exclude *pe;   /* exclude lines, parsed once every key is known */
	size_t npe;
};

/* One line of the file: [grid] is read here (exclude may repeat), the
 * other sections by bbt_config_load_ini_except. */
static int grid_line(const struct bbt_ini_line *l, void *ctx, char *err, size_t errlen)
{
	struct grid_scan *gs = ctx;
	if (strcmp(l->section, "grid") != 0)
		return BBT_OK;
	gs->seen_grid = 1;
	if (l->key == NULL)
		return BBT_OK;
	if (strcasecmp(l->key, "exclude") != 0)
		return add_key(gs->g, l->key, l->value, l->line, err, errlen);
	struct pending_exclude *n = realloc(gs->pe, (gs->npe + 1) * sizeof *n);
	if (n == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	gs->pe = n;
	if ((n[gs->npe].text = bbt_strdup(l->value)) == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	n[gs->npe++].line = l->line;
	return BBT_OK;
}

static int parse_grid_section(bbt_grid_t *g, char *err, size_t errlen)
{
	struct grid_scan gs = { .g = g };
	int rc = bbt_ini_scan_file(g->path, grid_line, &gs, err, errlen);
	if (rc == BBT_OK && !gs.seen_grid)
		rc = bbt_error(err, errlen, BBT_EINVAL,
		               "%s: no [grid] section (a grid file lists the values to vary there)",
		               g->path);
	for (size_t i = 0; i < gs.npe; i++) {
		if (rc == BBT_OK)
			rc = add_exclude(g, gs.pe[i].text, gs.pe[i].line, err, errlen);
		free(gs.pe[i].text);
	}
	free(gs.pe);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Combinations */

static int excluded(const bbt_grid_t *g, const size_t *idx)
{
	for (size_t e = 0; e < g->nex; e++) {
		size_t match = 0;
		for (size_t c = 0; c < g->ex[e].n; c++)
			match += idx[g->ex[e].conds[c].key] == g->ex[e].conds[c].value;
		if (match == g->ex[e].n)
			return 1;
	}
	return 0;
}

/* Drop what cannot change this combination's run: the options of plugins
 * that do not run in it, and the settings its method ignores (a baseline
 * runs no optimizer), so that each run is made once. */
static void mark_unused(const bbt_grid_t *g, size_t *idx)
{
	const char *opt = g->optimizer, *be = g->backend, *method = g->method;
	for (size_t k = 0; k < g->nkeys; k++) {
		if (g->keys[k].kind != GK_RUN)
			continue;
		const char *rk = run_key_name(g->keys[k].name);
		if (strcmp(rk, "optimizer") == 0)
			opt = g->keys[k].values[idx[k]];
		else if (strcmp(rk, "backend") == 0)
			be = g->keys[k].values[idx[k]];
		else if (strcmp(rk, "method") == 0)
			method = g->keys[k].values[idx[k]];
	}
	int tuned = strcmp(method, "tune") == 0;
	for (size_t k = 0; k < g->nkeys; k++) {
		const struct gkey *gk = &g->keys[k];
		if (gk->kind == GK_RUN
		        ? !bbt_run_setting_matters(method, run_key_name(gk->name))
		        : (gk->kind == GK_OPTIMIZER && !tuned) ||
		                  (gk->plugin != NULL &&
		                   strcmp(gk->plugin, gk->kind == GK_OPTIMIZER ? opt : be) != 0))
			idx[k] = SIZE_MAX;
	}
}

static uint64_t tuple_hash(const size_t *idx, size_t n)
{
	return bbt_hash64(idx, n * sizeof *idx, BBT_HASH64_INIT);
}

static int expand(bbt_grid_t *g, char *err, size_t errlen)
{
	size_t raw = 1;
	for (size_t k = 0; k < g->nkeys; k++) {
		raw *= g->keys[k].nvalues;
		if (raw > MAX_COMBOS)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "%s: the grid has more than %d combinations", g->path, MAX_COMBOS);
	}
	size_t nk = g->nkeys ? g->nkeys : 1;
	g->combos = malloc(raw * nk * sizeof *g->combos);
	/* Open addressing over accepted combinations, to drop duplicates. */
	size_t cap = 16;
	while (cap < 2 * raw)
		cap *= 2;
	size_t *table = malloc(cap * sizeof *table);
	size_t *idx = calloc(nk, sizeof *idx);
	if (g->combos == NULL || table == NULL || idx == NULL) {
		free(table);
		free(idx);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory for %zu combinations", raw);
	}
	for (size_t i = 0; i < cap; i++)
		table[i] = SIZE_MAX;
	for (size_t r = 0; r < raw; r++) {
		/* Mixed radix, the first key slowest. */
		size_t rem = r;
		for (size_t k = g->nkeys; k-- > 0;) {
			idx[k] = rem % g->keys[k].nvalues;
			rem /= g->keys[k].nvalues;
		}
		if (excluded(g, idx))
			continue;
		mark_unused(g, idx);
		size_t h = (size_t)tuple_hash(idx, g->nkeys) & (cap - 1);
		int dup = 0;
		for (; table[h] != SIZE_MAX; h = (h + 1) & (cap - 1)) {
			if (memcmp(g->combos + table[h] * nk, idx, g->nkeys * sizeof *idx) == 0) {
				dup = 1;
				break;
			}
		}
		if (dup)
			continue;
		table[h] = g->count;
		memcpy(g->combos + g->count * nk, idx, nk * sizeof *idx);
		g->count++;
	}
	free(table);
	free(idx);
	if (g->count == 0)
		return bbt_error(err, errlen, BBT_EINVAL, "%s: every combination is excluded",
		                 g->path);
	return BBT_OK;
}

int bbt_grid_load(const char *path, bbt_grid_t **out, char *err, size_t errlen)
{
	*out = NULL;
	bbt_grid_t *g = calloc(1, sizeof *g);
	if (g == NULL || (g->path = bbt_strdup(path)) == NULL) {
		bbt_grid_free(g);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	/* The fixed sections first: their errors, and the plugins that run
	 * when the grid does not vary them. */
	struct bbt_config fixed;
	int rc = bbt_config_init(&fixed);
	if (rc < 0) {
		bbt_grid_free(g);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	rc = bbt_config_load_ini_except(&fixed, path, BBT_GRID_OWN_SECTIONS, err, errlen);
	if (rc == BBT_OK) {
		g->optimizer = bbt_strdup(fixed.optimizer);
		g->backend = bbt_strdup(fixed.backend);
		g->method = bbt_strdup(fixed.method);
		if (fixed.experiment[0] != '\0') {
			g->experiment = bbt_strdup(fixed.experiment);
		} else {
			const char *base = strrchr(path, '/');
			base = base ? base + 1 : path;
			size_t n = strlen(base);
			if (n > 4 && strcmp(base + n - 4, ".ini") == 0)
				n -= 4;
			g->experiment = bbt_strndup(base, n);
		}
		if (!g->optimizer || !g->backend || !g->method || !g->experiment)
			rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		else if (!bbt_name_is_plain(g->experiment))
			rc = bbt_error(err, errlen, BBT_EINVAL,
			               "%s: the experiment is named after the file, and '%s' is not "
			               BBT_PLAIN_WORD "; rename the file or set [run] experiment = NAME",
			               path, g->experiment);
	}
	if (rc == BBT_OK)
		rc = parse_grid_section(g, err, errlen);
	bbt_config_release(&fixed);
	if (rc == BBT_OK)
		rc = expand(g, err, errlen);
	if (rc < 0) {
		bbt_grid_free(g);
		return rc;
	}
	*out = g;
	return BBT_OK;
}

size_t bbt_grid_count(const bbt_grid_t *g)
{
	return g->count;
}

const char *bbt_grid_experiment(const bbt_grid_t *g)
{
	return g->experiment;
}

size_t bbt_grid_key_count(const bbt_grid_t *g)
{
	return g->nkeys;
}

const char *bbt_grid_key(const bbt_grid_t *g, size_t k)
{
	return g->keys[k].name;
}

const char *bbt_grid_value(const bbt_grid_t *g, size_t index, size_t k)
{
	size_t v = g->combos[index * (g->nkeys ? g->nkeys : 1) + k];
	return v == SIZE_MAX ? NULL : g->keys[k].values[v];
}

int bbt_grid_in_shard(size_t index, size_t shard, size_t nshards)
{
	return nshards <= 1 || index % nshards == shard - 1;
}

int bbt_grid_config(const bbt_grid_t *g, size_t index, struct bbt_config *cfg, char *err,
                    size_t errlen)
{
	if (bbt_config_init(cfg) < 0)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	int rc = bbt_config_load_ini_except(cfg, g->path, BBT_GRID_OWN_SECTIONS, err, errlen);
	for (size_t k = 0; rc == BBT_OK && k < g->nkeys; k++) {
		const char *v = bbt_grid_value(g, index, k);
		if (v == NULL)
			continue;
		char origin[BBT_ERRLEN];
		snprintf(origin, sizeof origin, "%s:%zu", g->path, g->keys[k].line);
		if (g->keys[k].kind == GK_RUN)
			rc = bbt_config_set(cfg, g->keys[k].name, v, origin, err, errlen);
		else if (bbt_kvlist_set(&cfg->ini_plugin_opts, g->keys[k].name, v, origin) < 0)
			rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	if (rc == BBT_OK && cfg->experiment[0] == '\0')
		rc = bbt_config_set(cfg, "experiment", g->experiment, g->path, err, errlen);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Running */

struct bbt_grid_params bbt_grid_default_params(void)
{
	return (struct bbt_grid_params){ .jobs = 1, .shard = 1, .nshards = 1, .out = NULL,
		                             .force = 0 };
}

/* Worker exit codes (a worker is a process this module forked). */
enum { W_FINISHED = 0, W_FAILED = 1, W_USAGE = 2, W_SKIPPED = 3, W_INTERRUPTED = 4 };

/* What the grid knows of one run of its selection, for the ETA. */
struct run_state {
	char *cost_key;        /* runs sharing it cost the same per call: the optimizer */
	size_t budget;         /* API calls it will make; 0 for a baseline (a few) */
	size_t calls;          /* as last reported */
	double elapsed;        /* seconds, as last reported */
	int done;
};

struct tally {
	struct bbt_grid_summary *s;
	double t0;
	struct run_state *runs;  /* one per run of the selection, in its order */
	size_t nruns, jobs;
};

static size_t tally_done(const struct tally *t)
{
	return t->s->finished + t->s->skipped + t->s->failed + t->s->interrupted;
}

/* Seconds per API call of runs with this cost key, from every run that made
 * calls (finished, or under way); NULL: of all runs. 0: nothing known yet. */
static double cost_per_call(const struct tally *t, const char *key)
{
	double sec = 0;
	size_t calls = 0;
	for (size_t i = 0; i < t->nruns; i++)
		if (key == NULL || strcmp(t->runs[i].cost_key, key) == 0) {
			sec += t->runs[i].elapsed;
			calls += t->runs[i].calls;
		}
	return calls > 0 ? sec / (double)calls : 0;
}

/* The calls left, each at its optimizer's cost (or, for an optimizer not
 * seen yet, the grid's), spread over the workers; < 0 until the first
 * progress. A run skipped as finished reports the calls and seconds it
 * took, so after a resume the cost is known from the first of them; the
 * runs not reached yet count as work left until then. */
static double eta_seconds(const struct tally *t)
{
	double any = cost_per_call(t, NULL), sec = 0;
	if (any == 0)
		return -1;
	size_t open = 0;
	for (size_t i = 0; i < t->nruns; i++) {
		const struct run_state *r = &t->runs[i];
		if (r->done)
			continue;
		double c = cost_per_call(t, r->cost_key);
		sec += (double)(r->budget > r->calls ? r->budget - r->calls : 0) * (c > 0 ? c : any);
		open++;
	}
	size_t parallel = open < t->jobs ? open : t->jobs;
	return parallel > 0 ? sec / (double)parallel : 0;
}

/* "[grid 3/40, 2 done, ETA 4m05s] " in front of the progress line. */
static void set_prefix(const struct tally *t, size_t position)
{
	char eta[32] = "?";
	double sec = eta_seconds(t);
	if (sec >= 0) {
		long m = (long)(sec / 60), sx = (long)sec % 60;
		if (m >= 60)
			snprintf(eta, sizeof eta, "%ldh%02ldm", m / 60, m % 60);
		else
			snprintf(eta, sizeof eta, "%ldm%02lds", m, sx);
	}
	char buf[128];
	snprintf(buf, sizeof buf, "[grid %zu/%zu, %zu done, ETA %s] ", position, t->s->total,
	         tally_done(t), eta);
	bbt_progress_set_prefix(buf);
}

static void note_progress(struct tally *t, size_t i, size_t calls, double elapsed)
{
	if (i < t->nruns && !t->runs[i].done) {
		t->runs[i].calls = calls;
		t->runs[i].elapsed = elapsed;
	}
}

/* Run i (0-based in the selection) ended: count it, and say so in one line. */
static void count(struct tally *t, size_t i, int code, double wall)
{
	const char *what = "failed";
	switch (code) {
	case W_FINISHED: t->s->finished++; what = "finished"; break;
	case W_SKIPPED: t->s->skipped++; what = "skipped"; break;
	case W_INTERRUPTED: t->s->interrupted++; what = "interrupted"; break;
	default: t->s->failed++; break;
	}
	t->runs[i].done = 1;
	bbt_log(code == W_SKIPPED ? BBT_LOG_DEBUG : BBT_LOG_INFO, NULL,
	        "grid: run %zu/%zu %s in %.1fs", i + 1, t->s->total, what, wall);
}

/* One run; the outcome as a worker exit code. Errors are logged here,
 * naming the combination. */
static int run_one(const bbt_grid_t *g, size_t index, bbt_registry_t *reg,
                   const struct bbt_run_flags *flags, const char *out, char *err, size_t errlen)
{
	struct bbt_config cfg;
	struct bbt_run_summary sum;
	int rc = bbt_grid_config(g, index, &cfg, err, errlen);
	if (rc == BBT_OK && out != NULL)
		rc = bbt_config_set(&cfg, "out", out, "command line", err, errlen);
	if (rc == BBT_OK)
		rc = bbt_run(&cfg, reg, flags, &sum, err, errlen);
	bbt_config_release(&cfg);
	if (rc == BBT_EINTR)
		return W_INTERRUPTED;
	if (rc == BBT_RUNDIR_LOCKED) {   /* another process (another grid) runs it */
		bbt_log(BBT_LOG_INFO, NULL, "grid run %zu skipped: %s", index, err);
		return W_SKIPPED;
	}
	if (rc < 0) {
		bbt_error_prefix(err, errlen, "grid run %zu", index);
		bbt_log(BBT_LOG_ERROR, NULL, "%s", err);
		return rc == BBT_EINVAL || rc == BBT_ENOTFOUND || rc == BBT_EFORMAT ||
		               rc == BBT_EABI || rc == BBT_ENOTSUP
		           ? W_USAGE
		           : W_FAILED;
	}
	if (strcmp(sum.status, "skipped") == 0) {
		/* What it cost when it ran: after a resume, the ETA's cost per
		 * call before any run under way reports one. */
		if (flags->on_progress != NULL && sum.api_calls > 0)
			flags->on_progress(flags->progress_ctx, sum.api_calls, sum.api_calls, sum.wall);
		bbt_log(BBT_LOG_DEBUG, NULL, "%s: already finished, skipped", sum.run_dir);
		return W_SKIPPED;
	}
	return W_FINISHED;
}

/* --jobs 1: the run's own progress line, behind the grid's prefix. */
struct inline_progress {
	struct tally *t;
	size_t i;
};

static void inline_progress(void *ctx, size_t calls, size_t budget, double elapsed)
{
	struct inline_progress *ip = ctx;
	(void)budget;
	note_progress(ip->t, ip->i, calls, elapsed);
	set_prefix(ip->t, ip->i + 1);
}

static int run_inline(const bbt_grid_t *g, const size_t *sel, size_t nsel, bbt_registry_t *reg,
                      const struct bbt_grid_params *p, struct tally *t, int *usage_error,
                      char *err, size_t errlen)
{
	for (size_t i = 0; i < nsel && !bbt_run_interrupted(); i++) {
		set_prefix(t, i + 1);
		struct inline_progress ip = { t, i };
		struct bbt_run_flags flags = { .force = p->force, .resume = !p->force,
			                           .on_progress = inline_progress,
			                           .progress_ctx = &ip };
		double t0 = bbt_now();
		int code = run_one(g, sel[i], reg, &flags, p->out, err, errlen);
		count(t, i, code, bbt_now() - t0);
		if (code == W_USAGE) {
			*usage_error = 1;
			break;
		}
	}
	return BBT_OK;
}

/* A worker's progress, to the grid over a pipe: fixed-size messages, each
 * written whole (under PIPE_BUF), so that workers' messages never mix. */
struct worker_report {
	size_t i;            /* the run, 0-based in the selection */
	size_t calls;
	double elapsed;
};

struct worker_pipe {
	int fd;              /* the pipe's write end */
	size_t i;
};

static void worker_progress(void *ctx, size_t calls, size_t budget, double elapsed)
{
	const struct worker_pipe *wp = ctx;
	struct worker_report m = { wp->i, calls, elapsed };
	(void)budget;
	/* Best effort: a full pipe costs the grid's ETA a sample, not the run. */
	if (write(wp->fd, &m, sizeof m) < 0)
		return;
}

/* Read the reports waiting in the pipe (its read end is non-blocking). */
static void drain_reports(int fd, struct tally *t)
{
	struct worker_report m;
	while (read(fd, &m, sizeof m) == (ssize_t)sizeof m)
		note_progress(t, m.i, m.calls, m.elapsed);
}

/* The grid's one progress line while workers run: its prefix and the calls
 * of the runs under way. */
static void show_workers(const struct tally *t, size_t position)
{
	size_t calls = 0, budget = 0, running = 0;
	for (size_t i = 0; i < t->nruns; i++)
		if (!t->runs[i].done && t->runs[i].elapsed > 0) {
			calls += t->runs[i].calls;
			budget += t->runs[i].budget;
			running++;
		}
	set_prefix(t, position);
	bbt_progress(0, "%zu running, calls %zu/%zu", running, calls, budget);
}

static int run_workers(const bbt_grid_t *g, const size_t *sel, size_t nsel, bbt_registry_t *reg,
                       const struct bbt_grid_params *p, struct tally *t, int *usage_error,
                       char *err, size_t errlen)
{
	pid_t *pids = calloc(p->jobs, sizeof *pids);
	double *started = calloc(p->jobs, sizeof *started);
	size_t *running = calloc(p->jobs, sizeof *running);   /* worker -> run */
	int reports[2] = { -1, -1 };
	if (pids == NULL || started == NULL || running == NULL) {
		free(pids);
		free(started);
		free(running);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	int rc = BBT_OK;
	if (pipe(reports) < 0 || fcntl(reports[0], F_SETFL, O_NONBLOCK) < 0)
		rc = bbt_error(err, errlen, BBT_EIO, "pipe: %s", strerror(errno));
	size_t next = 0, active = 0;
	int stop = rc < 0, forwarded = 0;
	pid_t parent = getpid();
	while ((!stop && next < nsel) || active > 0) {
		if (bbt_run_interrupted() && !forwarded) {
			/* Workers have their own process group, so a Ctrl-C reaches only
			 * this process: pass it on, so that each saves its run. */
			for (size_t w = 0; w < p->jobs; w++)
				if (pids[w] > 0)
					kill(pids[w], SIGINT);
			forwarded = stop = 1;
		}
		if (!stop && next < nsel && active < p->jobs) {
			size_t w = 0;
			while (pids[w] != 0)
				w++;
			set_prefix(t, next + 1);
			fflush(stdout);
			fflush(stderr);
			pid_t pid = fork();
			if (pid < 0) {
				rc = bbt_error(err, errlen, BBT_EIO, "fork: %s", strerror(errno));
				stop = 1;
				continue;
			}
			if (pid == 0) {
#ifdef __linux__
				/* A worker dies with the grid (kill -9 included), so that a
				 * re-run never races an orphan writing the same run folder. */
				prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
				if (getppid() != parent)
					_exit(W_INTERRUPTED);
				/* Out of the terminal's process group: Ctrl-C reaches the grid
				 * alone, which passes it on once. Twice (terminal and grid) would
				 * kill the worker before it saved its run. */
				setpgid(0, 0);
				close(reports[0]);
				/* The grid draws the one progress line; the run's own goes
				 * to its run.log. */
				bbt_progress_set_terminal(0);
				struct worker_pipe wp = { reports[1], next };
				struct bbt_run_flags flags = { .force = p->force,
					                           .resume = !p->force,
					                           .on_progress = worker_progress,
					                           .progress_ctx = &wp };
				int code = run_one(g, sel[next], reg, &flags, p->out, err, errlen);
				fflush(stdout);
				fflush(stderr);
				_exit(code);  /* a worker process ends here; the grid goes on */
			}
			pids[w] = pid;
			started[w] = bbt_now();
			running[w] = next;
			next++;
			active++;
			continue;
		}
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid == 0 || (pid < 0 && errno == EINTR)) {
			/* Wait for a report, a worker's end or a Ctrl-C (poll returns
			 * early on a signal). */
			struct pollfd pfd = { reports[0], POLLIN, 0 };
			if (poll(&pfd, 1, 50) > 0) {
				drain_reports(reports[0], t);
				show_workers(t, next);
			}
			continue;
		}
		if (pid < 0) {
			rc = bbt_error(err, errlen, BBT_EIO, "waitpid: %s", strerror(errno));
			break;
		}
		size_t w = 0;
		while (w < p->jobs && pids[w] != pid)
			w++;
		if (w == p->jobs)
			continue;  /* not one of ours */
		int code = WIFEXITED(st) ? WEXITSTATUS(st) : W_FAILED;
		if (!WIFEXITED(st))
			bbt_log(BBT_LOG_ERROR, NULL, "grid: a worker ended by signal %d",
			        WIFSIGNALED(st) ? WTERMSIG(st) : 0);
		drain_reports(reports[0], t);   /* its last report, before it counts as done */
		count(t, running[w], code, bbt_now() - started[w]);
		pids[w] = 0;
		active--;
		if (code == W_USAGE) {
			*usage_error = 1;
			stop = 1;
		}
	}
	for (int e = 0; e < 2; e++)
		if (reports[e] >= 0)
			close(reports[e]);
	free(pids);
	free(started);
	free(running);
	return rc;
}

/* Each run's cost key and budget, from its settings. */
static int tally_init(struct tally *t, const bbt_grid_t *g, const size_t *sel, size_t nsel,
                      char *err, size_t errlen)
{
	t->runs = calloc(nsel ? nsel : 1, sizeof *t->runs);
	if (t->runs == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	int rc = BBT_OK;
	for (size_t i = 0; i < nsel && rc == BBT_OK; i++) {
		struct bbt_config cfg;
		rc = bbt_grid_config(g, sel[i], &cfg, err, errlen);
		if (rc == BBT_OK) {
			int tuned = strcmp(cfg.method, "tune") == 0;
			t->runs[i].cost_key = bbt_strdup(tuned ? cfg.optimizer : cfg.method);
			t->runs[i].budget = tuned && cfg.budget > 0 ? (size_t)cfg.budget : 0;
			t->nruns++;
			if (t->runs[i].cost_key == NULL)
				rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		}
		bbt_config_release(&cfg);
	}
	return rc;
}

static void tally_release(struct tally *t)
{
	for (size_t i = 0; i < t->nruns; i++)
		free(t->runs[i].cost_key);
	free(t->runs);
}

int bbt_grid_run(const bbt_grid_t *g, bbt_registry_t *reg, const struct bbt_grid_params *p,
                 struct bbt_grid_summary *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	if (p->nshards == 0 || p->shard == 0 || p->shard > p->nshards || p->jobs == 0)
		return bbt_error(err, errlen, BBT_EINVAL, "bad shard %zu/%zu or jobs %zu", p->shard,
		                 p->nshards, p->jobs);
	size_t *sel = malloc(g->count * sizeof *sel), nsel = 0;
	if (sel == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (size_t i = 0; i < g->count; i++)
		if (bbt_grid_in_shard(i, p->shard, p->nshards))
			sel[nsel++] = i;
	struct tally t = { .s = s, .t0 = bbt_now(), .jobs = p->jobs };
	s->total = nsel;
	int usage_error = 0;
	int rc = tally_init(&t, g, sel, nsel, err, errlen);
	bbt_run_install_signals();
	if (rc == BBT_OK)
		rc = p->jobs == 1 ? run_inline(g, sel, nsel, reg, p, &t, &usage_error, err, errlen)
		                  : run_workers(g, sel, nsel, reg, p, &t, &usage_error, err, errlen);
	bbt_progress_set_prefix(NULL);
	bbt_progress_break();
	tally_release(&t);
	free(sel);
	s->wall = bbt_now() - t.t0;
	if (rc < 0)
		return rc;
	if (usage_error)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: a run has a configuration error (above); grid stopped", g->path);
	if (bbt_run_interrupted() || s->interrupted > 0)
		return bbt_error(err, errlen, BBT_EINTR,
		                 "interrupted; run the same command again to resume");
	if (s->failed > 0)
		return bbt_error(err, errlen, BBT_EIO, "%zu of %zu runs failed (errors above)",
		                 s->failed, s->total);
	return BBT_OK;
}
