/*
 * splits.c - the train/dev/test splits of a run (see dataset.h).
 *
 * Few-shot train and dev come either from the full train file, sampled the
 * way the BBT code does it (construct_true_few_shot_data: shuffle all
 * indices with the data seed, walk them, first k of each label to train,
 * next k to dev), or from a published k-shot folder <dir>/<k>-<seed>/ as it
 * is. The test set is the full evaluation file where it exists, else the
 * folder's test.tsv. The task's full dev file is never used: BBT draws its
 * dev set from the train shots, and GLUE's dev set is BBT's test set.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/dataset.h"
#include "core/rng.h"
#include "core/util.h"

struct bbt_splits_params bbt_splits_default_params(void)
{
	struct bbt_splits_params p = {
		.data_dir = "data",
		.k = 16,                 /* BBT and LM-BFF: 16 shots per class */
		.data_seed = 42,         /* one of LM-BFF's 13, 21, 42, 87, 100 */
		.source = BBT_SPLIT_AUTO,
	};
	return p;
}

void bbt_splits_free(struct bbt_splits *s)
{
	if (s == NULL)
		return;
	bbt_dataset_free(s->train);
	bbt_dataset_free(s->dev);
	bbt_dataset_free(s->test);
	free(s->train_from);
	free(s->test_from);
	memset(s, 0, sizeof *s);
}

int bbt_kshot_sample(const bbt_dataset_t *full, size_t n_labels, size_t k, uint32_t seed,
                     size_t *train_idx, size_t *n_train, size_t *dev_idx, size_t *n_dev,
                     char *err, size_t errlen)
{
	*n_train = 0;
	*n_dev = 0;
	if (n_labels == 0 || k == 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "k-shot sampling: expected n_labels > 0 and k > 0, got %zu and %zu",
		                 n_labels, k);
	size_t n = full->n;
	size_t *idx = malloc((n ? n : 1) * sizeof *idx);
	size_t *tc = calloc(n_labels, sizeof *tc), *dc = calloc(n_labels, sizeof *dc);
	bbt_rng_t *rng = bbt_rng_alloc(seed);
	int rc = BBT_OK;
	if (idx == NULL || tc == NULL || dc == NULL || rng == NULL) {
		rc = bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", full->path);
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	/* np.random.seed(seed); np.random.shuffle(all_indices) */
	bbt_rng_shuffle(rng, idx, n);
	for (size_t i = 0; i < n; i++) {
		int label = full->ex[idx[i]].label;
		if (label < 0) /* BBT skips unlabelled rows (our readers drop them) */
			continue;
		if ((size_t)label >= n_labels) {
			rc = bbt_error(err, errlen, BBT_EINVAL,
			               "%s:%zu: label index %d, expected below %zu", full->path,
			               full->ex[idx[i]].line, label, n_labels);
			goto done;
		}
		if (tc[label] < k) {
			train_idx[(*n_train)++] = idx[i];
			tc[label]++;
		} else if (dc[label] < k) {
			dev_idx[(*n_dev)++] = idx[i];
			dc[label]++;
		}
	}
	for (size_t l = 0; l < n_labels; l++) {
		if (tc[l] >= k)
			continue;
		char counts[256] = "";
		for (size_t j = 0; j < n_labels; j++) {
			size_t len = strlen(counts);
			snprintf(counts + len, sizeof counts - len, "%s%zu: %zu", j ? ", " : "", j,
			         tc[j] + dc[j]);
		}
		rc = bbt_error(err, errlen, BBT_EFORMAT,
		               "%s: label %zu has %zu examples, expected at least k = %zu for the "
		               "train shots (examples per label: %s)", full->path, l, tc[l], k,
		               counts);
		goto done;
	}
done:
	if (rc < 0) {
		*n_train = 0;
		*n_dev = 0;
	}
	bbt_rng_free(rng);
	free(idx);
	free(tc);
	free(dc);
	return rc;
}

static int is_file(const char *path)
{
	struct stat st;
	return path != NULL && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Sample train and dev from `full` into out. */
static int sample_into(const bbt_task_t *task, const bbt_dataset_t *full, size_t k,
                       uint32_t seed, struct bbt_splits *out, char *err, size_t errlen)
{
	size_t nl = task->n_labels;
	size_t *counts = calloc(nl, sizeof *counts);
	size_t *ti = NULL, *di = NULL;
	size_t nt, nd;
	int rc = BBT_OK;
	if (counts == NULL) {
		rc = bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", full->path);
		goto done;
	}
	/* Say which label is short in the task's words before the sampler
	 * can only say "label 1". Checked before allocating nl * k indices,
	 * which then cannot exceed the data set's size. */
	bbt_dataset_label_counts(full, nl, counts);
	for (size_t l = 0; l < nl; l++)
		if (counts[l] < k) {
			const char *value = task->train ? task->train->label_values[l] : NULL;
			rc = bbt_error(err, errlen, BBT_EFORMAT,
			               "%s: label %s%s%s(%s) has %zu examples, expected at least k = %zu "
			               "for the train shots", full->path, value ? "\"" : "",
			               value ? value : "", value ? "\" " : "", task->label_words[l],
			               counts[l], k);
			goto done;
		}
	ti = malloc(nl * k * sizeof *ti);
	di = malloc(nl * k * sizeof *di);
	if (ti == NULL || di == NULL) {
		rc = bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", full->path);
		goto done;
	}
	rc = bbt_kshot_sample(full, nl, k, seed, ti, &nt, di, &nd, err, errlen);
	if (rc < 0)
		goto done;
	out->train = bbt_dataset_subset(full, ti, nt);
	out->dev = bbt_dataset_subset(full, di, nd);
	if (out->train == NULL || out->dev == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", full->path);
	else
		out->train->skipped = full->skipped;  /* counted once, with the file */
done:
	free(counts);
	free(ti);
	free(di);
	return rc;
}

static int toy_splits(const bbt_task_t *task, const struct bbt_splits_params *p,
                      struct bbt_splits *out, char *err, size_t errlen)
{
	/* Fixed seeds for the pool and the test set: the data seed only picks
	 * the shots, as with a real data set. */
	bbt_dataset_t *full = bbt_toy_generate(2000, 1);
	if (full == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "<toy>: out of memory");
	int rc = sample_into(task, full, p->k, p->data_seed, out, err, errlen);
	out->n_pool = full->n;
	bbt_dataset_free(full);
	if (rc < 0)
		return rc;
	out->test = bbt_toy_generate(1000, 2);
	out->train_from = bbt_strdup("<toy>");
	out->test_from = bbt_strdup("<toy>");
	out->sampled = 1;
	if (out->test == NULL || out->train_from == NULL || out->test_from == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "<toy>: out of memory");
	return BBT_OK;
}

/* The reader's own "no such file (expected ...)" message for a path known
 * to be absent, so that every missing-file error states the format. */
static void missing_msg(const bbt_task_t *task, const struct bbt_source *src, const char *path,
                        char *buf, size_t len)
{
	bbt_dataset_t *ds = NULL;
	if (bbt_dataset_read(task, src, path, &ds, buf, len) == 0) {
		/* it appeared meanwhile */
		bbt_dataset_free(ds);
		snprintf(buf, len, "%s", path);
	}
}

int bbt_splits_load(const bbt_task_t *task, const struct bbt_splits_params *params,
                    struct bbt_splits *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (params->k == 0)
		return bbt_error(err, errlen, BBT_EINVAL, "k: expected at least 1 shot per class, got 0");
	if (task->generator != NULL) {
		int rc = toy_splits(task, params, out, err, errlen);
		if (rc < 0)
			bbt_splits_free(out);
		return rc;
	}

	const char *dd = params->data_dir != NULL ? params->data_dir : "";
	char *full_train = NULL, *kdir_base = NULL, *kdir = NULL, *k_train = NULL, *k_dev = NULL,
	     *k_test = NULL, *full_test = NULL;
	char m1[BBT_ERRLEN], m2[BBT_ERRLEN];
	bbt_dataset_t *full = NULL;
	int rc = BBT_OK;

	if (task->train != NULL && (full_train = bbt_path_join(dd, task->train->file)) == NULL)
		goto oom;
	if (task->test != NULL && (full_test = bbt_path_join(dd, task->test->file)) == NULL)
		goto oom;
	if (task->kshot != NULL) {
		char sub[64];
		snprintf(sub, sizeof sub, "%zu-%lu", params->k, (unsigned long)params->data_seed);
		if ((kdir_base = bbt_path_join(dd, task->kshot->file)) == NULL ||
		    (kdir = bbt_path_join(kdir_base, sub)) == NULL ||
		    (k_train = bbt_path_join(kdir, "train.tsv")) == NULL ||
		    (k_dev = bbt_path_join(kdir, "dev.tsv")) == NULL ||
		    (k_test = bbt_path_join(kdir, "test.tsv")) == NULL)
			goto oom;
	}

	/* Where the shots come from. */
	int use_full;
	switch (params->source) {
	case BBT_SPLIT_FULL:
		if (task->train == NULL) {
			rc = bbt_error(err, errlen, BBT_ENOTFOUND,
			               "%s: task %s names no full train file, expected train: in the "
			               "task file (or split source kshot)", task->path, task->name);
			goto fail;
		}
		use_full = 1;
		break;
	case BBT_SPLIT_KSHOT:
		if (task->kshot == NULL) {
			rc = bbt_error(err, errlen, BBT_ENOTFOUND,
			               "%s: task %s names no k-shot folder, expected kshot: in the "
			               "task file (or split source full)", task->path, task->name);
			goto fail;
		}
		use_full = 0;
		break;
	case BBT_SPLIT_AUTO:
		use_full = is_file(full_train);
		if (!use_full && task->kshot == NULL) {
			if (task->train == NULL) {
				rc = bbt_error(err, errlen, BBT_ENOTFOUND,
				               "%s: task %s has no training data, expected train: or kshot: "
				               "in the task file", task->path, task->name);
				goto fail;
			}
			use_full = 1; /* the reader says what is missing */
		} else if (!use_full && !is_file(k_train) && task->train != NULL) {
			missing_msg(task, task->train, full_train, m1, sizeof m1);
			missing_msg(task, task->kshot, k_train, m2, sizeof m2);
			rc = bbt_error(err, errlen, BBT_ENOTFOUND, "%s: no training data: %s; %s",
			               task->name, m1, m2);
			goto fail;
		}
		break;
	default:
		rc = bbt_error(err, errlen, BBT_EINVAL, "split source %d, expected auto, full or kshot",
		               (int)params->source);
		goto fail;
	}

	/* Find the test set before reading a big train file for nothing. */
	const struct bbt_source *test_src = NULL;
	const char *test_path = NULL;
	if (is_file(full_test)) {
		test_src = task->test;
		test_path = full_test;
	} else if (is_file(k_test)) {
		test_src = task->kshot;
		test_path = k_test;
	} else {
		m1[0] = m2[0] = '\0';
		if (task->test != NULL)
			missing_msg(task, task->test, full_test, m1, sizeof m1);
		if (task->kshot != NULL)
			missing_msg(task, task->kshot, k_test, m2, sizeof m2);
		rc = bbt_error(err, errlen, BBT_ENOTFOUND, "%s: no test set: %s%s%s", task->name,
		               m1, m1[0] && m2[0] ? "; " : "", m2[0] || m1[0] ? m2
		               : "the task file names no test file and no k-shot folder");
		goto fail;
	}

	if (use_full) {
		if ((rc = bbt_dataset_read(task, task->train, full_train, &full, err, errlen)) < 0)
			goto fail;
		if ((rc = sample_into(task, full, params->k, params->data_seed, out, err, errlen)) < 0)
			goto fail;
		out->n_pool = full->n;
		bbt_dataset_free(full);
		full = NULL;
		out->train_from = full_train;
		full_train = NULL;
		out->sampled = 1;
	} else {
		if ((rc = bbt_dataset_read(task, task->kshot, k_train, &out->train, err, errlen)) < 0 ||
		    (rc = bbt_dataset_read(task, task->kshot, k_dev, &out->dev, err, errlen)) < 0)
			goto fail;
		out->train_from = k_train;
		k_train = NULL;
	}
	if ((rc = bbt_dataset_read(task, test_src, test_path, &out->test, err, errlen)) < 0)
		goto fail;
	if ((out->test_from = bbt_strdup(test_path)) == NULL)
		goto oom;
	goto done;

oom:
	rc = bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", task->name);
fail:
	bbt_dataset_free(full);
	bbt_splits_free(out);
done:
	free(full_train);
	free(full_test);
	free(kdir_base);
	free(kdir);
	free(k_train);
	free(k_dev);
	free(k_test);
	return rc;
}
