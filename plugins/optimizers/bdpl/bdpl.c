/*
 * bdpl.c - the `bdpl` optimizer: black-box discrete prompt learning (Diao et
 * al., "Black-box Prompt Learning for Pre-trained Language Models", TMLR
 * 2023), a policy gradient over categorical prompts.
 *
 * The search space is L positions x K choices (the host's candidate
 * vocabulary). Position i has its own probability vector p_i over the K
 * choices, uniform at the start. Each ask samples I prompts independently
 * from the p_i; tell estimates the gradient of the expected loss with the
 * leave-one-out baseline b_k = mean of the other I-1 losses (variance
 * reduction without bias, as b_k does not depend on sample k). Since
 * l_k - b_k = I/(I-1) (l_k - mean(l)), the estimate (1/I) sum_k (l_k - b_k)
 * d log p(prompt_k) is
 *
 *     g_ij = 1/(I-1) sum_k (l_k - mean(l)) * [c_ki = j] / p_ij
 *
 * ([c_ki = j] / p_ij is d log p(prompt_k) / d p_ij). The authors' code
 * writes the derivative as +1/p_ij for the sampled and -1/p_ij for every
 * other choice; since the centred losses sum to zero, that equals 2 g_ij
 * wherever it is finite (and is NaN where a p_ij reached 0, which this form
 * never divides by, as a choice of probability 0 is never sampled). The
 * gradient's norm over the whole L x K matrix is clipped at `clip`, AdamW
 * takes a step (decoupled weight decay, as torch.optim.AdamW), and each row
 * is projected back onto the probability simplex: the exact Euclidean
 * projection (Duchi et al., ICML 2008), where the authors' code bisects
 * for the same threshold to 1e-3.
 *
 * The recommendation is the arg-max prompt (lowest index on ties).
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>


/* Samples per step when both sample_size and the host's popsize are 0:
 * the paper's I = 20. */
#define DEFAULT_SAMPLES 20

/* Defaults from Diao et al. (TMLR 2023): I = 20, AdamW with lr 1e-4 and
 * weight decay 0.1, gradient norm clipped at 3; betas and eps are
 * torch.optim.AdamW's, which the authors' code leaves at their defaults. */
static const struct bbt_option_spec options[] = {
	{ "sample_size", BBT_OPT_INT, "0", NULL, 0, 1e6,
	  "prompts sampled per step, I (>= 2); 0: the host's popsize (20 by default)" },
	{ "lr", BBT_OPT_DOUBLE, "1e-4", NULL, 0, 1e6, "AdamW learning rate" },
	{ "weight_decay", BBT_OPT_DOUBLE, "0.1", NULL, 0, 1e6, "AdamW decoupled weight decay" },
	{ "clip", BBT_OPT_DOUBLE, "3", NULL, 0, 1e12, "gradient-norm clip (0: none)" },
	{ "beta1", BBT_OPT_DOUBLE, "0.9", NULL, 0, 1, "AdamW first-moment decay" },
	{ "beta2", BBT_OPT_DOUBLE, "0.999", NULL, 0, 1, "AdamW second-moment decay" },
	{ "eps", BBT_OPT_DOUBLE, "1e-8", NULL, 0, 1, "AdamW epsilon" },
	{ 0 },
};

struct bdpl {
	const bbt_host_t *host;
	size_t L, K, I;
	double lr, wd, clip, b1, b2, eps;
	double *p;         /* L x K probabilities, rows on the simplex */
	double *m, *v;     /* AdamW moments, L x K */
	double *g;         /* gradient, L x K */
	double *sorted;    /* K scratch values for the projection */
	size_t asked;
	size_t countiter, countevals, steps, skipped;
	double gradnorm;   /* before clipping; NaN before the first step */
};

static void bdpl_free(void *state)
{
	struct bdpl *s = state;
	if (s == NULL)
		return;
	free(s->p);
	free(s->m);
	free(s->v);
	free(s->g);
	free(s->sorted);
	free(s);
}

static int bdpl_create(const bbt_host_t *host, const struct bbt_optimizer_params *p,
                       void **state, struct bbt_optimizer_info *info, char *err, size_t errlen)
{
	if (state != NULL)
		*state = NULL;
	if (host == NULL || p == NULL || state == NULL || info == NULL) {
		return bbt_error(err, errlen, BBT_EINVAL, "bdpl: create called with a NULL argument");
	}
	if (p->space.kind != BBT_SPACE_CATEGORICAL) {
		return bbt_error(err, errlen, BBT_EINVAL, "bdpl: searches categorical spaces (discrete prompts) only");
	}
	size_t L = p->space.dim, K = p->space.choices;
	if (L == 0 || K == 0) {
		return bbt_error(err, errlen, BBT_EINVAL, "bdpl: categorical space of %zu positions x %zu choices", L, K);
	}
	if (K > SIZE_MAX / sizeof(double) / L) {
		return bbt_error(err, errlen, BBT_ENOMEM, "bdpl: %zu x %zu probabilities do not fit in memory", L, K);
	}
	long ss = host->opt_int(host->ctx, "sample_size");
	size_t I = ss > 0 ? (size_t)ss : p->popsize > 0 ? p->popsize : DEFAULT_SAMPLES;
	if (I < 2) {
		return bbt_error(err, errlen, BBT_EINVAL, 
         		        "bdpl: %zu sample per step; the leave-one-out baseline needs at least 2", I);
	}
	struct bdpl *s = calloc(1, sizeof *s);
	if (s == NULL) {
		return bbt_error(err, errlen, BBT_ENOMEM, "bdpl: out of memory");
	}
	s->host = host;
	s->L = L;
	s->K = K;
	s->I = I;
	s->lr = host->opt_double(host->ctx, "lr");
	s->wd = host->opt_double(host->ctx, "weight_decay");
	s->clip = host->opt_double(host->ctx, "clip");
	s->b1 = host->opt_double(host->ctx, "beta1");
	s->b2 = host->opt_double(host->ctx, "beta2");
	s->eps = host->opt_double(host->ctx, "eps");
	s->gradnorm = NAN;
	if (!(s->lr > 0) || !isfinite(s->lr) || !(s->wd >= 0) || !(s->clip >= 0) ||
	    !(s->b1 >= 0 && s->b1 < 1) || !(s->b2 >= 0 && s->b2 < 1) || !(s->eps >= 0)) {
		bbt_error(err, errlen, BBT_EINVAL,
		        "bdpl: need lr > 0 (%g), weight_decay >= 0 (%g), clip >= 0 (%g), beta1 and "
		        "beta2 in [0, 1) (%g, %g), eps >= 0 (%g)",
		        s->lr, s->wd, s->clip, s->b1, s->b2, s->eps);
		bdpl_free(s);
		return BBT_EINVAL;
	}
	s->p = malloc(L * K * sizeof *s->p);
	s->m = calloc(L * K, sizeof *s->m);
	s->v = calloc(L * K, sizeof *s->v);
	s->g = calloc(L * K, sizeof *s->g);
	s->sorted = malloc(K * sizeof *s->sorted);
	if (!s->p || !s->m || !s->v || !s->g || !s->sorted) {
		bdpl_free(s);
		return bbt_error(err, errlen, BBT_ENOMEM, "bdpl: out of memory for %zu x %zu probabilities", L, K);
	}
	for (size_t i = 0; i < L * K; i++)
		s->p[i] = 1.0 / (double)K;
	info->batch = I;
	*state = s;
	return BBT_OK;
}

/* One draw from row p (K entries summing to about 1) by inversion. An entry
 * of probability 0 is never drawn. */
static size_t draw(const bbt_host_t *h, const double *p, size_t K)
{
	double total = 0;
	for (size_t j = 0; j < K; j++)
		total += p[j];
	double target = h->rng_uniform(h->ctx) * total, cum = 0;
	size_t last = 0;
	for (size_t j = 0; j < K; j++) {
		if (p[j] <= 0)
			continue;
		cum += p[j];
		last = j;
		if (cum > target)
			return j;
	}
	return last;   /* rounding left target at the very top */
}

static int bdpl_ask(void *state, double *x, size_t *n, char *err, size_t errlen)
{
	struct bdpl *s = state;
	if (s == NULL || x == NULL || n == NULL) {
		return bbt_error(err, errlen, BBT_EINVAL, "bdpl: ask called with a NULL argument");
	}
	for (size_t k = 0; k < s->I; k++)
		for (size_t i = 0; i < s->L; i++)
			x[k * s->L + i] = (double)draw(s->host, s->p + i * s->K, s->K);
	*n = s->I;
	s->asked = s->I;
	return BBT_OK;
}

static int cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x < y) - (x > y);
}

/* Euclidean projection of row p onto {p >= 0, sum p = 1} (Duchi et al.
 * 2008, Fig. 1): theta from the sorted values, then p - theta clamped. */
static void project_simplex(double *p, size_t K, double *sorted)
{
	memcpy(sorted, p, K * sizeof *p);
	qsort(sorted, K, sizeof *sorted, cmp_desc);
	double cum = 0, theta = 0;
	for (size_t j = 0; j < K; j++) {
		cum += sorted[j];
		double t = (cum - 1.0) / (double)(j + 1);
		if (sorted[j] - t > 0)
			theta = t;
	}
	for (size_t j = 0; j < K; j++)
		p[j] = p[j] > theta ? p[j] - theta : 0.0;
}

static int bdpl_tell(void *state, const double *x, size_t n, const double *loss,
                     const double *grad, char *err, size_t errlen)
{
	struct bdpl *s = state;
	(void)grad;
	if (s == NULL || x == NULL || loss == NULL) {
		return bbt_error(err, errlen, BBT_EINVAL, "bdpl: tell called with a NULL argument");
	}
	if (n != s->asked || n == 0) {
		return bbt_error(err, errlen, BBT_EINVAL, 
         		        "bdpl: tell with %zu losses, but the last ask gave %zu prompts (the baseline "
         		        "needs the whole batch)", n, s->asked);
	}
	size_t L = s->L, K = s->K, I = n;
	for (size_t q = 0; q < n * L; q++) {
		if (!(x[q] >= 0 && x[q] < (double)K) || x[q] != floor(x[q])) {
			return bbt_error(err, errlen, BBT_EINVAL, "bdpl: candidate value %g is not a choice in 0..%zu", x[q],
         			        K - 1);
		}
	}
	s->asked = 0;
	s->countiter++;
	s->countevals += n;
	double mean = 0;
	for (size_t k = 0; k < I; k++) {
		if (!isfinite(loss[k])) {
			s->skipped++;
			if (s->host->log != NULL)
				s->host->log(s->host->ctx, BBT_LOG_WARNING,
				             "step %zu: prompt %zu has loss %g; step skipped", s->countiter,
				             k, loss[k]);
			return BBT_OK;
		}
		mean += loss[k];
	}
	mean /= (double)I;

	/* Policy gradient with the leave-one-out baseline. */
	memset(s->g, 0, L * K * sizeof *s->g);
	for (size_t k = 0; k < I; k++) {
		double w = (loss[k] - mean) / (double)(I - 1);
		for (size_t i = 0; i < L; i++) {
			size_t j = (size_t)x[k * L + i];
			s->g[i * K + j] += w / s->p[i * K + j];
		}
	}
	double n2 = 0;
	for (size_t q = 0; q < L * K; q++)
		n2 += s->g[q] * s->g[q];
	s->gradnorm = sqrt(n2);
	if (s->clip > 0 && s->gradnorm > s->clip) {
		double c = s->clip / (s->gradnorm + 1e-6);   /* torch's clip_grad_norm_ */
		for (size_t q = 0; q < L * K; q++)
			s->g[q] *= c;
	}

	/* AdamW, as torch.optim.AdamW: decay, moments, bias-corrected step. */
	s->steps++;
	double c1 = 1.0 - pow(s->b1, (double)s->steps), c2 = 1.0 - pow(s->b2, (double)s->steps);
	for (size_t q = 0; q < L * K; q++) {
		s->p[q] *= 1.0 - s->lr * s->wd;
		s->m[q] = s->b1 * s->m[q] + (1 - s->b1) * s->g[q];
		s->v[q] = s->b2 * s->v[q] + (1 - s->b2) * s->g[q] * s->g[q];
		s->p[q] -= s->lr * (s->m[q] / c1) / (sqrt(s->v[q] / c2) + s->eps);
	}
	for (size_t i = 0; i < L; i++)
		project_simplex(s->p + i * K, K, s->sorted);
	return BBT_OK;
}

static void bdpl_recommend(void *state, double *x)
{
	const struct bdpl *s = state;
	if (s == NULL || x == NULL)
		return;
	for (size_t i = 0; i < s->L; i++) {
		const double *row = s->p + i * s->K;
		size_t best = 0;
		for (size_t j = 1; j < s->K; j++)
			if (row[j] > row[best])
				best = j;
		x[i] = (double)best;
	}
}

/* The distribution can collapse onto one prompt, but BDPL has no stop rule
 * of its own: the host's budget ends the run. */
static const char *bdpl_stop_reason(void *state)
{
	(void)state;
	return NULL;
}

static size_t bdpl_stats(void *state, struct bbt_optimizer_stat *out, size_t cap)
{
	const struct bdpl *s = state;
	if (s == NULL || out == NULL)
		return 0;
	double sum_max = 0, min_max = 1, entropy = 0;
	for (size_t i = 0; i < s->L; i++) {
		const double *row = s->p + i * s->K;
		double mx = 0;
		for (size_t j = 0; j < s->K; j++) {
			mx = row[j] > mx ? row[j] : mx;
			if (row[j] > 0)
				entropy -= row[j] * log(row[j]);
		}
		sum_max += mx;
		min_max = mx < min_max ? mx : min_max;
	}
	const struct bbt_optimizer_stat all[] = {
		{ "countiter", (double)s->countiter },
		{ "countevals", (double)s->countevals },
		{ "sample_size", (double)s->I },
		{ "mean_max_prob", sum_max / (double)s->L },
		{ "min_max_prob", min_max },
		{ "mean_entropy", entropy / (double)s->L },
		{ "gradnorm", s->gradnorm },
		{ "skipped_steps", (double)s->skipped },
	};
	size_t n = sizeof all / sizeof all[0];
	if (n > cap)
		n = cap;
	memcpy(out, all, n * sizeof *out);
	return n;
}

/* The blob's layout; bump when fields change. */
#define BDPL_STATE_FORMAT 1

/* The fields in their order, for save and load alike. */
#define BDPL_FIELDS(F64, U64)                                                           \
	F64("p", s->p, s->L * s->K)                                                     \
	F64("m", s->m, s->L * s->K)                                                     \
	F64("v", s->v, s->L * s->K)                                                     \
	F64("gradnorm", &s->gradnorm, 1)                                                \
	U64("counters", counters, 4)

static int bdpl_save_state(void *state, bbt_state_write_fn write, void *ctx, char *err,
                           size_t errlen)
{
	struct bdpl *s = state;
	uint64_t counters[4] = { s->countiter, s->countevals, s->steps, s->skipped };
	struct bbt_state_writer w = bbt_state_writer(write, ctx);
	bbt_state_begin(&w, "bdpl", BDPL_STATE_FORMAT);
#define PUT_F64(name, v, k) bbt_state_put_f64(&w, name, v, k);
#define PUT_U64(name, v, k) bbt_state_put_u64(&w, name, v, k);
	BDPL_FIELDS(PUT_F64, PUT_U64)
	return bbt_state_end(&w, "bdpl", err, errlen);
}

static int bdpl_load_state(void *state, const void *bytes, size_t len, char *err,
                           size_t errlen)
{
	struct bdpl *s = state;
	uint64_t counters[4] = { 0 };
	struct bbt_state_reader r = bbt_state_reader(bytes, len, "bdpl state", err, errlen);
	bbt_state_expect(&r, "bdpl", BDPL_STATE_FORMAT);
#define GET_F64(name, v, k) bbt_state_get_f64(&r, name, v, k);
#define GET_U64(name, v, k) bbt_state_get_u64(&r, name, v, k);
	BDPL_FIELDS(GET_F64, GET_U64)
	int rc = bbt_state_done(&r);
	if (rc < 0)
		return rc;
	s->countiter = (size_t)counters[0];
	s->countevals = (size_t)counters[1];
	s->steps = (size_t)counters[2];
	s->skipped = (size_t)counters[3];
	s->asked = 0;
	return BBT_OK;
}

static const struct bbt_optimizer_ops ops = {
	.create = bdpl_create,
	.ask = bdpl_ask,
	.tell = bdpl_tell,
	.recommend = bdpl_recommend,
	.stop_reason = bdpl_stop_reason,
	.stats = bdpl_stats,
	.free = bdpl_free,
	.save_state = bdpl_save_state,
	.load_state = bdpl_load_state,
};

BBT_PLUGIN_EXPORT const struct bbt_plugin bbt_plugin = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = BBT_ABI_MINOR,
	.kind = BBT_PLUGIN_OPTIMIZER,
	.name = "bdpl",
	.version = "1.0",
	.description = "black-box discrete prompt learning (Diao et al. 2023): policy gradient "
	               "over L x K categorical prompts",
	.options = options,
	.flags = BBT_OPTIMIZER_CATEGORICAL,
	.optimizer = &ops,
	.backend = NULL,
};
