/*
 * subspace.c - the random projection p = A z + p0 of BBT.
 *
 * A is float because it is the largest object the host holds (50 x 1024 x
 * 500 values for RoBERTa-large: 100 MB as float, 200 MB as double) and
 * because the backend takes float prompts anyway; the products go through
 * OpenBLAS, which is what keeps a population's projection cheap next to
 * the forward passes.
 */
#include "config.h"

#include <cblas.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "run/subspace.h"
#include "core/util.h"

struct bbt_subspace {
	size_t dim;        /* d */
	size_t out_dim;    /* D */
	float *a;          /* D x d, row-major */
	float *p0;         /* D values, or NULL for zero */
};

/* z rows converted to float per call are capped at this many values, so a
 * huge population costs a bounded scratch buffer instead of n x d floats. */
#define SCRATCH_VALUES ((size_t)1 << 20)

/* Rows of A summed per sgemm in the pullback: the partial products are
 * float, and adding blocks of this size into a double keeps the error of
 * a 50k-term sum near that of a 4k-term one. */
#define PULLBACK_BLOCK ((size_t)4096)

struct bbt_subspace_params bbt_subspace_default_params(void)
{
	struct bbt_subspace_params p = {
		.dim = 0,
		.out_dim = 0,
		.projection = BBT_PROJECTION_NORMAL,
		.embed_std = 0.0,
		.alpha = 1.0,
		.sigma0 = 1.0,
		.seed = 0,
		.p0 = NULL,
	};
	return p;
}

double bbt_subspace_scale(const struct bbt_subspace_params *params)
{
	return params->alpha * params->embed_std /
	       (sqrt((double)params->dim) * params->sigma0);
}

const char *bbt_projection_name(enum bbt_projection p)
{
	switch (p) {
	case BBT_PROJECTION_NORMAL: return "normal";
	case BBT_PROJECTION_UNIFORM: return "uniform";
	}
	return "unknown";
}

enum bbt_projection bbt_projection_parse(const char *name)
{
	if (name == NULL)
		return 0;
	if (strcmp(name, "normal") == 0)
		return BBT_PROJECTION_NORMAL;
	if (strcmp(name, "uniform") == 0)
		return BBT_PROJECTION_UNIFORM;
	return 0;
}

static int check_params(const struct bbt_subspace_params *p, char *err, size_t errlen)
{
	if (p->dim < 1)
		return bbt_error(err, errlen, BBT_EINVAL, "subspace: dim must be >= 1 (got %zu)", p->dim);
	if (p->out_dim < 1)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "subspace: out_dim must be >= 1 (got %zu)", p->out_dim);
	if (p->out_dim > SIZE_MAX / sizeof(float) / p->dim)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "subspace: a %zu x %zu matrix is too big to address",
		                 p->out_dim, p->dim);
	/* CBLAS takes int dimensions (OpenBLAS without ILP64). */
	if (p->dim > INT_MAX || p->out_dim > INT_MAX)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "subspace: dim %zu or out_dim %zu exceeds the BLAS limit %d",
		                 p->dim, p->out_dim, INT_MAX);
	if (p->projection != BBT_PROJECTION_NORMAL && p->projection != BBT_PROJECTION_UNIFORM)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "subspace: unknown projection %d (expected normal or uniform)",
		                 (int)p->projection);
	/* !(x > 0) also rejects NaN. */
	if (!(p->embed_std > 0.0) || !isfinite(p->embed_std))
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "subspace: embed_std must be a finite value > 0 (got %g)",
		                 p->embed_std);
	if (!(p->sigma0 > 0.0) || !isfinite(p->sigma0))
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "subspace: sigma0 must be a finite value > 0 (got %g)", p->sigma0);
	if (!(p->alpha > 0.0) || !isfinite(p->alpha))
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "subspace: alpha must be a finite value > 0 (got %g)", p->alpha);
	double s = bbt_subspace_scale(p);
	if (!(s > 0.0) || !isfinite(s) || sqrt(3.0) * s > FLT_MAX)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "subspace: scale alpha*embed_std/(sqrt(d)*sigma0) = %g "
		                 "is not a usable float", s);
	return BBT_OK;
}

bbt_subspace_t *bbt_subspace_alloc(const struct bbt_subspace_params *params,
                                   char *err, size_t errlen)
{
	if (params == NULL) {
		bbt_error(err, errlen, BBT_EINVAL, "subspace: no parameters");
		return NULL;
	}
	if (check_params(params, err, errlen) < 0)
		return NULL;

	size_t d = params->dim, big_d = params->out_dim;
	bbt_subspace_t *s = calloc(1, sizeof *s);
	bbt_rng_t *rng = bbt_rng_alloc(params->seed);
	if (s == NULL || rng == NULL)
		goto oom;
	s->dim = d;
	s->out_dim = big_d;
	s->a = malloc(big_d * d * sizeof *s->a);
	if (s->a == NULL)
		goto oom;
	if (params->p0 != NULL) {
		/* A copy: the caller's p0 (often the backend's embeddings of a
		 * manual prompt) need not outlive the subspace. */
		s->p0 = malloc(big_d * sizeof *s->p0);
		if (s->p0 == NULL)
			goto oom;
		memcpy(s->p0, params->p0, big_d * sizeof *s->p0);
	}

	double scale = bbt_subspace_scale(params);
	float *a = s->a;
	if (params->projection == BBT_PROJECTION_NORMAL) {
		for (size_t i = 0; i < big_d * d; i++)
			a[i] = (float)(scale * bbt_rng_normal(rng));
	} else {
		/* U(-h, h) has std h / sqrt(3): h = sqrt(3) s gives std s. */
		double half = sqrt(3.0) * scale;
		for (size_t i = 0; i < big_d * d; i++)
			a[i] = (float)(half * (2.0 * bbt_rng_uniform(rng) - 1.0));
	}
	bbt_rng_free(rng);
	return s;

oom:
	bbt_error(err, errlen, BBT_ENOMEM,
	          "subspace: out of memory for a %zu x %zu projection matrix (%.1f MiB)",
	          big_d, d, (double)big_d * (double)d * sizeof(float) / 1048576.0);
	bbt_rng_free(rng);
	bbt_subspace_free(s);
	return NULL;
}

void bbt_subspace_free(bbt_subspace_t *s)
{
	if (s == NULL)
		return;
	free(s->a);
	free(s->p0);
	free(s);
}

const float *bbt_subspace_matrix(const bbt_subspace_t *s)
{
	return s->a;
}

size_t bbt_subspace_dim(const bbt_subspace_t *s)
{
	return s->dim;
}

size_t bbt_subspace_out_dim(const bbt_subspace_t *s)
{
	return s->out_dim;
}

/* Both products run over the n candidates in chunks of at most `rows`,
 * through one float scratch of rows x d (the candidates in float for the
 * projection, one block's partial gradient for the pull-back), so that a
 * large population never needs a scratch of n x d:
 *
 *     struct chunks c;
 *     if (chunks_begin(&c, n, d) != 0) { ...naive path...; return; }
 *     while (chunks_next(&c)) { ...candidates c.v0 .. c.v0 + c.m - 1... }
 *     free(c.scratch);
 */
struct chunks {
	size_t n;        /* candidates in all */
	size_t rows;     /* most candidates per chunk: rows x d fits SCRATCH_VALUES */
	size_t v0, m;    /* the current chunk: m candidates from v0 */
	float *scratch;  /* rows x d floats */
};

/* 0, or -1 when the scratch cannot be had (c->scratch is then NULL). */
static int chunks_begin(struct chunks *c, size_t n, size_t d)
{
	size_t rows = SCRATCH_VALUES / d;
	if (rows < 1)
		rows = 1;
	if (rows > (size_t)INT_MAX)
		rows = (size_t)INT_MAX;
	c->n = n;
	c->rows = rows < n ? rows : n;
	c->v0 = 0;
	c->m = 0;
	c->scratch = n > 0 ? malloc(c->rows * d * sizeof *c->scratch) : NULL;
	return n > 0 && c->scratch == NULL ? -1 : 0;
}

/* Moves to the next chunk; 0 when all n candidates are done. */
static int chunks_next(struct chunks *c)
{
	c->v0 += c->m;
	c->m = c->n - c->v0 < c->rows ? c->n - c->v0 : c->rows;
	return c->m > 0;
}

/* The slow path when no scratch buffer can be had: the same product in
 * double, straight from z. Its last bits differ from sgemm's, but this
 * only runs when memory is exhausted, and a right answer beats none (the
 * function has no error return). */
static void project_naive(const bbt_subspace_t *s, const double *z, size_t n, float *p)
{
	size_t d = s->dim, big_d = s->out_dim;
	for (size_t v = 0; v < n; v++)
		for (size_t i = 0; i < big_d; i++) {
			const float *row = s->a + i * d;
			double acc = s->p0 != NULL ? s->p0[i] : 0.0;
			for (size_t j = 0; j < d; j++)
				acc += (double)row[j] * z[v * d + j];
			p[v * big_d + i] = (float)acc;
		}
}

void bbt_subspace_project(const bbt_subspace_t *s, const double *z, size_t n, float *p)
{
	size_t d = s->dim, big_d = s->out_dim;
	struct chunks c;
	if (chunks_begin(&c, n, d) != 0) {
		project_naive(s, z, n, p);
		return;
	}
	while (chunks_next(&c)) {
		const double *zc = z + c.v0 * d;
		float *pc = p + c.v0 * big_d;
		for (size_t k = 0; k < c.m * d; k++)
			c.scratch[k] = (float)zc[k];
		float beta = 0.0f;
		if (s->p0 != NULL) {
			for (size_t v = 0; v < c.m; v++)
				memcpy(pc + v * big_d, s->p0, big_d * sizeof *pc);
			beta = 1.0f;
		}
		/* P[m][D] = Z[m][d] * A^T + beta * P, A stored [D][d]. */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
		            (int)c.m, (int)big_d, (int)d,
		            1.0f, c.scratch, (int)d, s->a, (int)d,
		            beta, pc, (int)big_d);
	}
	free(c.scratch);
}

static void pullback_naive(const bbt_subspace_t *s, const float *g_p, size_t n, double *g_z)
{
	size_t d = s->dim, big_d = s->out_dim;
	for (size_t v = 0; v < n; v++) {
		double *gz = g_z + v * d;
		for (size_t j = 0; j < d; j++)
			gz[j] = 0.0;
		for (size_t i = 0; i < big_d; i++) {
			double g = g_p[v * big_d + i];
			const float *row = s->a + i * d;
			for (size_t j = 0; j < d; j++)
				gz[j] += g * row[j];
		}
	}
}

void bbt_subspace_pullback(const bbt_subspace_t *s, const float *g_p, size_t n, double *g_z)
{
	size_t d = s->dim, big_d = s->out_dim;
	struct chunks c;
	if (chunks_begin(&c, n, d) != 0) {
		pullback_naive(s, g_p, n, g_z);
		return;
	}
	while (chunks_next(&c)) {
		double *gz = g_z + c.v0 * d;
		for (size_t k = 0; k < c.m * d; k++)
			gz[k] = 0.0;
		for (size_t i0 = 0; i0 < big_d; i0 += PULLBACK_BLOCK) {
			size_t kb = big_d - i0 < PULLBACK_BLOCK ? big_d - i0 : PULLBACK_BLOCK;
			/* scratch[m][d] = G[m][i0 : i0+kb] * A[i0 : i0+kb][d] */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
			            (int)c.m, (int)d, (int)kb,
			            1.0f, g_p + c.v0 * big_d + i0, (int)big_d,
			            s->a + i0 * d, (int)d,
			            0.0f, c.scratch, (int)d);
			for (size_t k = 0; k < c.m * d; k++)
				gz[k] += c.scratch[k];
		}
	}
	free(c.scratch);
}
