/*
 * record.c - config.ini, vocab.tsv and result.json's descriptive sections.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/blas.h"
#include "core/sha256.h"
#include "core/util.h"
#include "run/record.h"

/* Close f, an open_memstream over *buf, and write *buf as file name. */
static int write_text(bbt_rundir_t *rd, const char *name, char **buf, FILE *f, char *err,
                      size_t errlen)
{
	fclose(f);
	int rc = bbt_rundir_write(rd, name, *buf, err, errlen);
	free(*buf);
	return rc;
}

int bbt_record_config(const struct bbt_plan *p, const struct bbt_setup *s, bbt_rundir_t *rd,
                      char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	fprintf(f, "; bbtbench %s: resolved settings of run %s\n; re-run with: bbtbench --config "
	           "config.ini --force\n",
	        PACKAGE_VERSION, p->run_id);
	bbt_config_write_run_section(p->cfg, f);
	const struct bbt_plugin_use *uses[] = { &s->opt, &s->be };
	for (size_t u = 0; u < 2; u++) {
		if (uses[u]->entry == NULL)
			continue;   /* a baseline runs no optimizer */
		fprintf(f, "\n[%s]\n", u == 0 ? "optimizer" : "backend");
		for (size_t i = 0; i < bbt_options_count(uses[u]->opts); i++)
			fprintf(f, "%s = %s\n", bbt_options_key(uses[u]->opts, i),
			        bbt_options_text(uses[u]->opts, i));
	}
	return write_text(rd, "config.ini", &buf, f, err, errlen);
}

int bbt_record_vocab(const struct bbt_setup *s, bbt_rundir_t *rd, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	fprintf(f, "index\tpmi\tlabel\texamples\tngram\ttoken_ids\n");
	for (size_t i = 0; i < bbt_vocab_size(s->vocab); i++) {
		size_t n;
		const int32_t *ids = bbt_vocab_ids(s->vocab, i, &n);
		int y = bbt_vocab_label(s->vocab, i);
		fprintf(f, "%zu\t%.6f\t%s\t%zu\t%s\t", i, bbt_vocab_score(s->vocab, i),
		        s->task->label_words[y], bbt_vocab_count(s->vocab, i),
		        bbt_vocab_text(s->vocab, i));
		for (size_t k = 0; k < n; k++)
			fprintf(f, "%s%ld", k ? "," : "", (long)ids[k]);
		fputc('\n', f);
	}
	return write_text(rd, "vocab.tsv", &buf, f, err, errlen);
}

static json_t *plugin_json(const struct bbt_plugin_use *u)
{
	const struct bbt_plugin *d = u->entry->desc;
	json_t *o = json_object(), *opts = json_object();
	char abi[32];
	snprintf(abi, sizeof abi, "%u.%u", (unsigned)d->abi_major, (unsigned)d->abi_minor);
	json_object_set_new(o, "name", json_string(d->name));
	json_object_set_new(o, "version", json_string(d->version ? d->version : ""));
	json_object_set_new(o, "abi", json_string(abi));
	json_object_set_new(o, "path", json_string(u->entry->path));
	for (size_t i = 0; i < bbt_options_count(u->opts); i++)
		json_object_set_new(opts, bbt_options_key(u->opts, i),
		                    json_string(bbt_options_text(u->opts, i)));
	json_object_set_new(o, "options", opts);
	return o;
}

/* The model file's SHA-256, so that a table names the exact bytes it came
 * from (a re-conversion or another quantisation is another model); null
 * when the backend reads no file (synthetic) or it cannot be read. */
static json_t *model_sha256_json(const char *model)
{
	char hex[65], err[BBT_ERRLEN];
	long long size;
	struct stat st;
	if (model[0] == '\0' || stat(model, &st) != 0 || !S_ISREG(st.st_mode) ||
	    bbt_sha256_file(model, hex, &size, err, sizeof err) < 0)
		return json_null();
	return json_string(hex);
}

static json_t *backend_json(const struct bbt_plan *p, const struct bbt_setup *s)
{
	json_t *be = plugin_json(&s->be), *mi = json_object();
	json_object_set_new(mi, "arch", json_string(s->info.arch));
	json_object_set_new(mi, "hidden", json_integer((json_int_t)s->info.hidden));
	json_object_set_new(mi, "layers", json_integer((json_int_t)s->info.layers));
	json_object_set_new(mi, "vocab_size", json_integer((json_int_t)s->info.vocab_size));
	json_object_set_new(mi, "max_len", json_integer((json_int_t)s->info.max_len));
	json_object_set_new(mi, "embed_std", json_real(s->info.embed_std));
	json_object_set_new(mi, "sha256", model_sha256_json(p->cfg->model));
	json_object_set_new(be, "model", mi);
	/* a served model: what the run cost on the wire, and whose model it was */
	bbt_backend_transport_fn transport = bbt_plugin_backend_transport(s->be.entry->desc);
	struct bbt_backend_transport tr = { 0 };
	if (transport != NULL && s->be.state != NULL && transport(s->be.state, &tr) == BBT_OK) {
		tr.server[sizeof tr.server - 1] = tr.model[sizeof tr.model - 1] = '\0';
		tr.model_sha256[sizeof tr.model_sha256 - 1] = '\0';
		json_t *t = json_object();
		json_object_set_new(t, "server", json_string(tr.server));
		json_object_set_new(t, "model", tr.model[0] ? json_string(tr.model) : json_null());
		json_object_set_new(t, "model_sha256",
		                    tr.model_sha256[0] ? json_string(tr.model_sha256) : json_null());
		json_object_set_new(t, "requests", json_integer((json_int_t)tr.requests));
		json_object_set_new(t, "retries", json_integer((json_int_t)tr.retries));
		json_object_set_new(t, "bytes_sent", json_integer((json_int_t)tr.bytes_sent));
		json_object_set_new(t, "bytes_received", json_integer((json_int_t)tr.bytes_received));
		json_object_set_new(t, "seconds", json_real(tr.seconds));
		json_object_set_new(be, "transport", t);
	}
	return be;
}

/* The BLAS that ran: OpenBLAS chooses its kernels for the CPU at run time
 * (OPENBLAS_CORETYPE overrides it), and other kernels or thread counts
 * change the last bits of every GEMM, so "the same build" is not enough to
 * promise bit-identical results; this is the rest of it. */
static json_t *blas_json(void)
{
	struct bbt_blas blas;
	bbt_blas_query(&blas);
	json_t *b = json_object();
	json_object_set_new(b, "library", json_string(blas.library));
	json_object_set_new(b, "config", blas.config ? json_string(blas.config) : json_null());
	json_object_set_new(b, "core", blas.core ? json_string(blas.core) : json_null());
	json_object_set_new(b, "threads", blas.threads > 0 ? json_integer(blas.threads) : json_null());
	/* Set when the core is a fallback far older than the CPU: the run's
	 * timings are then several times what this CPU can do. */
	json_object_set_new(b, "suggested_coretype",
	                    blas.suggested_core ? json_string(blas.suggested_core) : json_null());
	json_object_set_new(b, "cpus_online", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	return b;
}

static json_t *seeds_json(const struct bbt_plan *p)
{
	json_t *seeds = json_object();
	json_object_set_new(seeds, "run", json_integer(p->seed));
	json_object_set_new(seeds, "data", json_integer(p->data_seed));
	json_object_set_new(seeds, "optimizer", json_integer(p->seed_optimizer));
	json_object_set_new(seeds, "backend", json_integer(p->seed_backend));
	json_object_set_new(seeds, "projection", json_integer(p->seed_projection));
	return seeds;
}

static json_t *task_json(const struct bbt_setup *s)
{
	const bbt_task_t *t = s->task;
	json_t *task = json_object(), *words = json_array(), *ids = json_array();
	json_object_set_new(task, "name", json_string(t->name));
	json_object_set_new(task, "file", json_string(t->path));
	json_object_set_new(task, "template", json_string(t->template_text));
	json_object_set_new(task, "metric", json_string(bbt_metric_name(t->metric)));
	/* what test_f1 is: this label's F1, or (null) the macro-F1 */
	json_object_set_new(task, "positive", t->positive == BBT_NO_POSITIVE
	                                              ? json_null()
	                                              : json_string(t->label_words[t->positive]));
	for (size_t l = 0; l < s->L; l++) {
		json_array_append_new(words, json_string(t->label_words[l]));
		json_array_append_new(ids, json_integer(s->label_ids[l]));
	}
	json_object_set_new(task, "label_words", words);
	json_object_set_new(task, "label_ids", ids);
	return task;
}

static json_t *data_json(const struct bbt_setup *s)
{
	json_t *data = json_object(), *trunc = json_object(), *unlabelled = json_object();
	const bbt_dataset_t *ds[BBT_RUN_N_SPLITS] = { s->splits.train, s->splits.dev,
		                                      s->splits.test };
	json_object_set_new(data, "train_from", json_string(s->splits.train_from));
	json_object_set_new(data, "test_from", json_string(s->splits.test_from));
	json_object_set_new(data, "host_sampled", json_boolean(s->splits.sampled));
	for (int i = 0; i < BBT_RUN_N_SPLITS; i++) {
		const char *name = bbt_run_split_name((enum bbt_run_split)i);
		char key[16];
		snprintf(key, sizeof key, "n_%s", name);
		json_object_set_new(data, key, json_integer((json_int_t)s->enc[i]->n_seq));
		json_object_set_new(trunc, name, json_integer((json_int_t)s->enc[i]->n_truncated));
		json_object_set_new(unlabelled, name, json_integer((json_int_t)ds[i]->skipped));
	}
	json_object_set_new(data, "truncated", trunc);
	json_object_set_new(data, "unlabelled_skipped", unlabelled);
	return data;
}

static json_t *projection_json(const struct bbt_plan *p, const struct bbt_setup *s)
{
	json_t *proj = json_object();
	json_object_set_new(proj, "kind", json_string(p->cfg->projection));
	json_object_set_new(proj, "dim", json_integer((json_int_t)s->d));
	json_object_set_new(proj, "out_dim", json_integer((json_int_t)s->D));
	json_object_set_new(proj, "std", json_real(bbt_setup_projection_std(s, p)));
	return proj;
}

/* "a b c": the tokens' text, "?" for one the backend cannot show. */
static char *append_token(char *text, const char *tt)
{
	char *grown = text ? bbt_asprintf("%s%s%s", text, text[0] ? " " : "", tt ? tt : "?")
	                   : NULL;
	free(text);
	return grown;
}

/* Discrete runs record the best-on-dev prompt (the one scored on test) as
 * n-grams, token ids and the tokens' text in the backend's vocabulary. */
static void discrete_json(json_t *p, const struct bbt_setup *s, const double *z)
{
	const struct bbt_backend_ops *be = s->be.entry->desc->backend;
	json_t *idx = json_array(), *grams = json_array(), *ids = json_array(),
	       *toks = json_array();
	char *text = bbt_strdup("");
	for (size_t l = 0; l < s->d; l++) {
		size_t c = (size_t)z[l], n;
		const int32_t *t = bbt_vocab_ids(s->vocab, c, &n);
		json_array_append_new(idx, json_integer((json_int_t)c));
		json_array_append_new(grams, json_string(bbt_vocab_text(s->vocab, c)));
		for (size_t k = 0; k < n; k++) {
			const char *tt = be->token_text ? be->token_text(s->be.state, t[k]) : NULL;
			json_array_append_new(ids, json_integer(t[k]));
			json_array_append_new(toks, tt ? json_string(tt) : json_null());
			text = append_token(text, tt);
		}
	}
	json_object_set_new(p, "search_space", json_integer((json_int_t)bbt_vocab_size(s->vocab)));
	json_object_set_new(p, "indices", idx);
	json_object_set_new(p, "ngrams", grams);
	json_object_set_new(p, "token_ids", ids);
	json_object_set_new(p, "tokens", toks);
	json_object_set_new(p, "text", text ? json_string(text) : json_null());
	free(text);
}

static json_t *prompt_json(const struct bbt_plan *p, const struct bbt_setup *s,
                           const double *z)
{
	json_t *pj = json_object();
	int discrete = p->prompt == BBT_PROMPT_DISCRETE;
	json_object_set_new(pj, "kind", json_string(discrete ? "discrete" : "continuous"));
	json_object_set_new(pj, "length", json_integer(p->cfg->prompt_len));
	if (discrete)
		discrete_json(pj, s, z);
	return pj;
}

static json_t *icl_json(const struct bbt_plan *p, const struct bbt_setup *s)
{
	json_t *icl = json_object(), *idx = json_array();
	json_object_set_new(icl, "per_class", json_integer(p->cfg->icl_shots));
	json_object_set_new(icl, "used", json_integer((json_int_t)s->icl.used));
	json_object_set_new(icl, "dropped_to_fit", json_integer((json_int_t)s->icl.dropped));
	json_object_set_new(icl, "prefix_tokens", json_integer((json_int_t)s->icl.n_prefix));
	for (size_t i = 0; i < s->icl.used; i++)
		json_array_append_new(idx, json_integer((json_int_t)s->icl.chosen[i]));
	json_object_set_new(icl, "train_examples", idx);
	return icl;
}

void bbt_record_parts(const struct bbt_plan *p, const struct bbt_setup *s,
                      const double *best_dev_z, struct bbt_result_parts *parts)
{
	*parts = (struct bbt_result_parts){ 0 };
	parts->settings = bbt_config_to_json(p->cfg);
	parts->seeds = seeds_json(p);
	parts->optimizer = p->tuned ? plugin_json(&s->opt) : NULL;
	parts->backend = backend_json(p, s);
	parts->task = task_json(s);
	parts->data = data_json(s);
	parts->projection = p->prompt == BBT_PROMPT_CONTINUOUS ? projection_json(p, s) : NULL;
	parts->prompt = p->tuned ? prompt_json(p, s, best_dev_z) : NULL;
	parts->icl = p->method == BBT_METHOD_ICL ? icl_json(p, s) : NULL;
	parts->blas = blas_json();
}
