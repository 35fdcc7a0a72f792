/*
 * subspace.h - the random projection of BBT: p = A z + p0.
 *
 * z lives in R^d (what the optimizer searches), p in R^D with
 * D = prompt_layers * prompt_len * hidden (what the backend receives).
 * A is a fixed D x d matrix drawn once from the projection seed:
 *
 *   normal   A_ij ~ N(0, s^2),  s = alpha * sigma_hat / (sqrt(d) * sigma0)
 *            (BBTv2's rule: sigma_hat is the std of the model's word
 *            embeddings, sigma0 the optimizer's initial step size, so that
 *            A z has the embeddings' scale when z ~ N(0, sigma0^2 I))
 *   uniform  A_ij ~ U(-sqrt(3) s, sqrt(3) s): the same std s, another shape
 *
 * A is drawn row by row from bbt_rng (numpy-compatible), as float, and
 * stored row-major [D][d]. Projection of a whole population (V candidates)
 * is one sgemm: P[V][D] = Z[V][d] * A^T + p0.
 *
 *     struct bbt_subspace_params sp = bbt_subspace_default_params();
 *     sp.dim = 500; sp.out_dim = 50 * 1024; sp.embed_std = info.embed_std;
 *     bbt_subspace_t *s = bbt_subspace_alloc(&sp, err, sizeof err);
 *     bbt_subspace_project(s, z, 20, prompts);   z: 20 x 500 doubles
 *     bbt_subspace_free(s);
 */
#ifndef BBT_SUBSPACE_H
#define BBT_SUBSPACE_H

#include <stddef.h>
#include <stdint.h>

enum bbt_projection {
	BBT_PROJECTION_NORMAL = 1,
	BBT_PROJECTION_UNIFORM = 2,
};

struct bbt_subspace_params {
	size_t dim;                  /* d: subspace dimension (>= 1) */
	size_t out_dim;              /* D: prompt values = layers * P * H (>= 1) */
	enum bbt_projection projection;
	double embed_std;            /* sigma-hat: std of the word embeddings (> 0) */
	double alpha;                /* scale factor alpha (default 1) */
	double sigma0;               /* optimizer's initial step size (default 1, > 0) */
	uint32_t seed;               /* projection seed */
	const float *p0;             /* D values added to every projection; NULL: zero */
};

typedef struct bbt_subspace bbt_subspace_t;

/* Defaults: normal projection, alpha 1, sigma0 1, seed 0, no p0; dim,
 * out_dim and embed_std must be set by the caller. */
struct bbt_subspace_params bbt_subspace_default_params(void);

/* Draw A. NULL on a bad parameter or out of memory, with a message. */
bbt_subspace_t *bbt_subspace_alloc(const struct bbt_subspace_params *params,
                                   char *err, size_t errlen);
void bbt_subspace_free(bbt_subspace_t *s);

/* The std s of the rule above, for these parameters. */
double bbt_subspace_scale(const struct bbt_subspace_params *params);

/* p[v] = A z[v] + p0 for v < n: z is n x d doubles, p n x D floats. */
void bbt_subspace_project(const bbt_subspace_t *s, const double *z, size_t n, float *p);

/* g_z = A^T g_p for n rows (gradient through the projection): g_p n x D
 * floats, g_z n x d doubles. */
void bbt_subspace_pullback(const bbt_subspace_t *s, const float *g_p, size_t n, double *g_z);

/* A itself, row-major D x d, for tests and statistics. */
const float *bbt_subspace_matrix(const bbt_subspace_t *s);
size_t bbt_subspace_dim(const bbt_subspace_t *s);
size_t bbt_subspace_out_dim(const bbt_subspace_t *s);

const char *bbt_projection_name(enum bbt_projection p);
enum bbt_projection bbt_projection_parse(const char *name); /* 0 if unknown */

#endif /* BBT_SUBSPACE_H */
