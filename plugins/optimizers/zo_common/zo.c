/*
 * zo.c - finite-difference gradient estimation and the ask/tell protocol
 * shared by zo-sgd, zo-adam and the white-box adam (see zo.h).
 *
 * Every evaluation is a candidate of an ask, f(z) included, so the host
 * scores a whole step in one backend call and the budget counts every
 * call. The host tells only complete batches (a batch cut short by the
 * budget is never told), so tell requires exactly the batch it asked.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zo.h"

/* Host popsize when it leaves it at 0: BBT's CMA-ES population. */
#define DEFAULT_POPSIZE 20

struct zo {
	const bbt_host_t *host;
	const struct zo_rule *rule;
	size_t d, q;
	double mu;
	int central, sphere;
	double bound;                  /* 0: unbounded */
	double hyper[ZO_MAX_HYPER];
	double *z;                     /* the iterate */
	double *u;                     /* q x d directions of the last ask */
	double *g;                     /* the last estimate (or true gradient) */
	double *at;                    /* the iterate g was taken at */
	int have_g;                    /* a step has been taken */
	double *moments[ZO_MAX_MOMENTS];
	size_t batch;                  /* forward q + 1, central 2q */
	size_t asked;                  /* candidates of the last ask not yet told */
	size_t countiter, countevals, skipped;
	double gradnorm;               /* |g| of the last step; NaN before */
	double fz;                     /* f(z) of the last forward step; NaN otherwise */
};

void zo_estimate(size_t d, size_t q, const double *u, const double *f, double mu, int central,
                 int sphere, double *g)
{
	double scale = (sphere ? (double)d : 1.0) / (double)q;
	memset(g, 0, d * sizeof *g);
	for (size_t k = 0; k < q; k++) {
		double df = central ? (f[2 * k] - f[2 * k + 1]) / (2 * mu) : (f[1 + k] - f[0]) / mu;
		const double *uk = u + k * d;
		for (size_t i = 0; i < d; i++)
			g[i] += df * uk[i];
	}
	for (size_t i = 0; i < d; i++)
		g[i] *= scale;
}

void zo_free(void *state)
{
	struct zo *s = state;
	if (s == NULL)
		return;
	free(s->z);
	free(s->u);
	free(s->g);
	free(s->at);
	for (size_t m = 0; m < ZO_MAX_MOMENTS; m++)
		free(s->moments[m]);
	free(s);
}

static double clip(double v, double bound)
{
	if (bound > 0)
		v = v > bound ? bound : v < -bound ? -bound : v;
	return v;
}

/* The estimator's options (ZO_COMMON_OPTIONS). */
static int read_fd_options(const bbt_host_t *host, const struct bbt_optimizer_params *p,
                           const char *name, size_t *q, double *mu, int *central, int *sphere,
                           char *err, size_t errlen)
{
	const char *dir = host->opt_string(host->ctx, "directions");
	const char *dif = host->opt_string(host->ctx, "difference");
	*sphere = dir != NULL && strcmp(dir, "sphere") == 0;
	*central = dif != NULL && strcmp(dif, "central") == 0;
	if (dir == NULL || (!*sphere && strcmp(dir, "gaussian") != 0)) {
		return bbt_error(err, errlen, BBT_EINVAL, "%s: directions \"%s\" is not gaussian or sphere", name,
         		        dir ? dir : "");
	}
	if (dif == NULL || (!*central && strcmp(dif, "forward") != 0)) {
		return bbt_error(err, errlen, BBT_EINVAL, "%s: difference \"%s\" is not forward or central", name,
         		        dif ? dif : "");
	}
	*mu = host->opt_double(host->ctx, "mu");
	if (!(*mu > 0) || !isfinite(*mu)) {
		return bbt_error(err, errlen, BBT_EINVAL, "%s: mu %g is not a finite number > 0", name, *mu);
	}
	long qopt = host->opt_int(host->ctx, "q");
	if (qopt < 0) {
		return bbt_error(err, errlen, BBT_EINVAL, "%s: q %ld is negative", name, qopt);
	} else if (qopt > 0) {
		*q = (size_t)qopt;
	} else {
		size_t pop = p->popsize > 0 ? p->popsize : DEFAULT_POPSIZE;
		*q = *central ? pop / 2 : pop - 1;
		if (*q == 0)
			*q = 1;
	}
	return BBT_OK;
}

int zo_create(const bbt_host_t *host, const struct bbt_optimizer_params *p,
              const struct zo_rule *rule, void **state, struct bbt_optimizer_info *info,
              char *err, size_t errlen)
{
	const char *name = rule ? rule->name : "zo";
	if (state != NULL)
		*state = NULL;
	if (host == NULL || p == NULL || rule == NULL || state == NULL || info == NULL) {
		return bbt_error(err, errlen, BBT_EINVAL, "%s: create called with a NULL argument", name);
	}
	if (p->space.kind != BBT_SPACE_BOX) {
		return bbt_error(err, errlen, BBT_EINVAL, "%s: gradient steps need a real (box) search space", name);
	}
	size_t d = p->space.dim;
	if (d == 0 || d > SIZE_MAX / sizeof(double) / 2) {
		return bbt_error(err, errlen, BBT_EINVAL, "%s: search space of dimension %zu", name, d);
	}
	if (!(p->space.bound >= 0) || !isfinite(p->space.bound)) {
		return bbt_error(err, errlen, BBT_EINVAL, "%s: space bound %g is not a finite number >= 0", name,
         		        p->space.bound);
	}
	size_t q = 0;
	double mu = 0;
	int central = 0, sphere = 0;
	if (!rule->first_order) {
		int rc = read_fd_options(host, p, name, &q, &mu, &central, &sphere, err, errlen);
		if (rc < 0)
			return rc;
		if (q > SIZE_MAX / 2 / d / sizeof(double)) {
			return bbt_error(err, errlen, BBT_ENOMEM, 
         			        "%s: q = %zu directions of dimension %zu do not fit in memory", name, q,
         			        d);
		}
	}
	if (p->x0 != NULL) {
		for (size_t i = 0; i < d; i++) {
			if (!isfinite(p->x0[i]) ||
			    (p->space.bound > 0 && fabs(p->x0[i]) > p->space.bound)) {
				return bbt_error(err, errlen, BBT_EINVAL, "%s: x0[%zu] = %g is outside the search box", name,
         				        i, p->x0[i]);
			}
		}
	}

	struct zo *s = calloc(1, sizeof *s);
	if (s == NULL) {
		return bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", name);
	}
	s->host = host;
	s->rule = rule;
	s->d = d;
	s->q = q;
	s->mu = mu;
	s->central = central;
	s->sphere = sphere;
	s->bound = p->space.bound;
	s->batch = rule->first_order ? 1 : central ? 2 * q : q + 1;
	s->gradnorm = NAN;
	s->fz = NAN;
	s->z = calloc(d, sizeof *s->z);
	s->u = q > 0 ? calloc(q * d, sizeof *s->u) : NULL;
	s->g = calloc(d, sizeof *s->g);
	s->at = calloc(d, sizeof *s->at);
	int oom = s->z == NULL || (q > 0 && s->u == NULL) || s->g == NULL || s->at == NULL ||
	          rule->n_moments > ZO_MAX_MOMENTS;
	for (size_t m = 0; !oom && m < rule->n_moments; m++)
		oom = (s->moments[m] = calloc(d, sizeof *s->moments[m])) == NULL;
	if (oom) {
		int bad_rule = rule->n_moments > ZO_MAX_MOMENTS;
		zo_free(s);
		return bbt_error(err, errlen, bad_rule ? BBT_EINTERNAL : BBT_ENOMEM,
		                 bad_rule ? "%s: step rule wants too many moment vectors"
		                          : "%s: out of memory for a %zu-dimensional space",
		                 name, d);
	}
	int rc = rule->configure(host, s->hyper, err, errlen);
	if (rc < 0) {
		zo_free(s);
		return rc;
	}
	if (p->x0 != NULL)
		memcpy(s->z, p->x0, d * sizeof *s->z);
	info->batch = s->batch;
	*state = s;
	return BBT_OK;
}

/* A direction: N(0, I), or normalised onto the unit sphere (a zero draw,
 * probability 0 in exact arithmetic, is redrawn). */
static void draw_direction(struct zo *s, double *u)
{
	const bbt_host_t *h = s->host;
	for (;;) {
		double n2 = 0;
		for (size_t i = 0; i < s->d; i++) {
			u[i] = h->rng_normal(h->ctx);
			n2 += u[i] * u[i];
		}
		if (!s->sphere)
			return;
		if (n2 > 0) {
			double inv = 1.0 / sqrt(n2);
			for (size_t i = 0; i < s->d; i++)
				u[i] *= inv;
			return;
		}
	}
}

int zo_ask(void *state, double *x, size_t *n, char *err, size_t errlen)
{
	struct zo *s = state;
	if (s == NULL || x == NULL || n == NULL) {
		return bbt_error(err, errlen, BBT_EINVAL, "zo: ask called with a NULL argument");
	}
	size_t d = s->d;
	for (size_t k = 0; k < s->q; k++) {   /* none for a first-order rule */
		double *uk = s->u + k * d;
		draw_direction(s, uk);
		if (s->central) {
			double *xp = x + 2 * k * d, *xm = xp + d;
			for (size_t i = 0; i < d; i++) {
				xp[i] = clip(s->z[i] + s->mu * uk[i], s->bound);
				xm[i] = clip(s->z[i] - s->mu * uk[i], s->bound);
			}
		} else {
			double *xk = x + (1 + k) * d;
			for (size_t i = 0; i < d; i++)
				xk[i] = clip(s->z[i] + s->mu * uk[i], s->bound);
		}
	}
	if (!s->central)
		memcpy(x, s->z, d * sizeof *x);   /* f(z), or the point of the true gradient */
	*n = s->batch;
	s->asked = s->batch;
	return BBT_OK;
}

int zo_tell(void *state, const double *x, size_t n, const double *loss, const double *grad,
            char *err, size_t errlen)
{
	struct zo *s = state;
	(void)x;    /* the directions of the ask are kept; x only repeats them */
	if (s == NULL || loss == NULL) {
		return bbt_error(err, errlen, BBT_EINVAL, "zo: tell called with a NULL argument");
	}
	if (s->rule->first_order && grad == NULL) {
		return bbt_error(err, errlen, BBT_EINVAL, "%s: tell without the gradient a white-box step needs",
         		        s->rule->name);
	}
	if (n != s->asked || n == 0) {
		return bbt_error(err, errlen, BBT_EINVAL, 
         		        "%s: tell with %zu losses, but the last ask gave %zu candidates (a "
         		        "finite-difference step needs the whole batch)",
         		        s->rule->name, n, s->asked);
	}
	s->asked = 0;
	s->countevals += n;
	s->countiter++;
	for (size_t i = 0; i < n; i++) {
		int bad = !isfinite(loss[i]);
		for (size_t j = 0; s->rule->first_order && !bad && j < s->d; j++)
			bad = !isfinite(grad[j]);
		if (bad) {
			/* One failed evaluation poisons every coordinate of the
			 * estimate: keep z and draw new directions. */
			s->skipped++;
			if (s->host->log != NULL)
				s->host->log(s->host->ctx, BBT_LOG_WARNING,
				             "step %zu: candidate %zu has loss %g (or a non-finite "
				             "gradient); step skipped",
				             s->countiter, i, loss[i]);
			return BBT_OK;
		}
	}
	s->fz = s->central ? NAN : loss[0];
	if (s->rule->first_order)
		memcpy(s->g, grad, s->d * sizeof *s->g);
	else
		zo_estimate(s->d, s->q, s->u, loss, s->mu, s->central, s->sphere, s->g);
	memcpy(s->at, s->z, s->d * sizeof *s->at);
	s->have_g = 1;
	double n2 = 0;
	for (size_t i = 0; i < s->d; i++)
		n2 += s->g[i] * s->g[i];
	s->gradnorm = sqrt(n2);
	s->rule->step(s->hyper, s->countiter - s->skipped, s->d, s->g, s->moments, s->z);
	for (size_t i = 0; i < s->d; i++)
		s->z[i] = clip(s->z[i], s->bound);
	return BBT_OK;
}

void zo_recommend(void *state, double *x)
{
	const struct zo *s = state;
	if (s != NULL && x != NULL)
		memcpy(x, s->z, s->d * sizeof *x);
}

int zo_gradient_estimate(void *state, double *at, double *grad)
{
	const struct zo *s = state;
	if (s == NULL || !s->have_g)
		return BBT_ENOTSUP;
	memcpy(at, s->at, s->d * sizeof *at);
	memcpy(grad, s->g, s->d * sizeof *grad);
	return BBT_OK;
}

/* Finite-difference descent has no convergence test of its own here: the
 * host's budget ends the run. */
const char *zo_stop_reason(void *state)
{
	(void)state;
	return NULL;
}

/* The blob's layout; bump when fields change. */
#define ZO_STATE_FORMAT 1

/* The fields in their order, for save and load alike. */
#define ZO_FIELDS(F64, U64)                                                             \
	F64("z", s->z, s->d)                                                            \
	F64("g", s->g, s->d)                                                            \
	F64("at", s->at, s->d)                                                          \
	F64("gradnorm_fz", scalars, 2)                                                  \
	U64("counters", counters, 4)                                                    \
	F64("moment0", s->moments[0], s->rule->n_moments > 0 ? s->d : 0)                \
	F64("moment1", s->moments[1], s->rule->n_moments > 1 ? s->d : 0)

int zo_save_state(void *state, bbt_state_write_fn write, void *ctx, char *err, size_t errlen)
{
	struct zo *s = state;
	double scalars[2] = { s->gradnorm, s->fz };
	uint64_t counters[4] = { s->countiter, s->countevals, s->skipped, (uint64_t)s->have_g };
	if (s->asked)
		return bbt_error(err, errlen, BBT_EINVAL, "%s: state saved between an ask and its "
		                 "tell", s->rule->name);
	struct bbt_state_writer w = bbt_state_writer(write, ctx);
	bbt_state_begin(&w, s->rule->name, ZO_STATE_FORMAT);
#define PUT_F64(name, v, k) bbt_state_put_f64(&w, name, v, k);
#define PUT_U64(name, v, k) bbt_state_put_u64(&w, name, v, k);
	ZO_FIELDS(PUT_F64, PUT_U64)
	return bbt_state_end(&w, s->rule->name, err, errlen);
}

int zo_load_state(void *state, const void *bytes, size_t len, char *err, size_t errlen)
{
	struct zo *s = state;
	double scalars[2] = { 0, 0 };
	uint64_t counters[4] = { 0 };
	char who[48];
	snprintf(who, sizeof who, "%s state", s->rule->name);
	struct bbt_state_reader r = bbt_state_reader(bytes, len, who, err, errlen);
	bbt_state_expect(&r, s->rule->name, ZO_STATE_FORMAT);
#define GET_F64(name, v, k) bbt_state_get_f64(&r, name, v, k);
#define GET_U64(name, v, k) bbt_state_get_u64(&r, name, v, k);
	ZO_FIELDS(GET_F64, GET_U64)
	int rc = bbt_state_done(&r);
	if (rc < 0)
		return rc;
	if (counters[2] > counters[0] || counters[3] > 1)
		return bbt_error(err, errlen, BBT_EFORMAT, "%s: counters out of range (%llu steps, "
		                 "%llu skipped)", who, (unsigned long long)counters[0],
		                 (unsigned long long)counters[2]);
	s->gradnorm = scalars[0];
	s->fz = scalars[1];
	s->countiter = (size_t)counters[0];
	s->countevals = (size_t)counters[1];
	s->skipped = (size_t)counters[2];
	s->have_g = (int)counters[3];
	s->asked = 0;
	return BBT_OK;
}

size_t zo_stats(void *state, struct bbt_optimizer_stat *out, size_t cap)
{
	const struct zo *s = state;
	if (s == NULL || out == NULL)
		return 0;
	struct bbt_optimizer_stat all[8 + ZO_MAX_HYPER];
	size_t n = 0;
	all[n++] = (struct bbt_optimizer_stat){ "countiter", (double)s->countiter };
	all[n++] = (struct bbt_optimizer_stat){ "countevals", (double)s->countevals };
	if (!s->rule->first_order) {
		all[n++] = (struct bbt_optimizer_stat){ "q", (double)s->q };
		all[n++] = (struct bbt_optimizer_stat){ "mu", s->mu };
	}
	all[n++] = (struct bbt_optimizer_stat){ "gradnorm", s->gradnorm };
	all[n++] = (struct bbt_optimizer_stat){ "f_z", s->fz };
	all[n++] = (struct bbt_optimizer_stat){ "skipped_steps", (double)s->skipped };
	for (size_t i = 0; s->rule->hyper_names && s->rule->hyper_names[i] && i < ZO_MAX_HYPER; i++)
		all[n++] = (struct bbt_optimizer_stat){ s->rule->hyper_names[i], s->hyper[i] };
	if (n > cap)
		n = cap;
	memcpy(out, all, n * sizeof *out);
	return n;
}
