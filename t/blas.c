/*
 * t/blas.c - the OpenBLAS fallback-core check on fake cores and CPUs: an
 * old core on a newer CPU gets the OPENBLAS_CORETYPE that fits it; a core
 * that fits, a newer one, or a name we do not know gets nothing.
 */
#include "config.h"

#include <string.h>

#include "core/blas.h"
#include "tap.h"

static const struct bbt_cpu_features avx512 = { 1, 1, 1, 1, 1, 1, 1 };
static const struct bbt_cpu_features avx512f_only = { 1, 1, 1, 1, 0, 0, 0 };
static const struct bbt_cpu_features avx2 = { 1, 1, 1, 0, 0, 0, 0 };
static const struct bbt_cpu_features avx = { 1, 0, 0, 0, 0, 0, 0 };
static const struct bbt_cpu_features sse = { 0 };

static void suggests(const char *core, const struct bbt_cpu_features *cpu, const char *cpu_name,
                     const char *want)
{
	const char *got = bbt_blas_suggest_core(core, cpu);
	if (want == NULL)
		ok(got == NULL, "%s on %s: no warning (got %s)", core ? core : "(null)", cpu_name,
		   got ? got : "none");
	else
		is_string(got ? got : "(none)", want, "%s on %s: suggest %s", core, cpu_name, want);
}

int main(void)
{
	plan(14);
	suggests("Prescott", &avx512, "AVX-512", "SkylakeX");
	suggests("PRESCOTT", &avx512, "AVX-512", "SkylakeX");
	suggests("Nehalem", &avx512, "AVX-512", "SkylakeX");
	suggests("Sandybridge", &avx512, "AVX-512", "SkylakeX");
	suggests("Prescott", &avx512f_only, "avx512f without bw/vl/dq", "Haswell");
	suggests("Core2", &avx2, "AVX2", "Haswell");
	suggests("Katmai", &avx, "AVX", "Sandybridge");
	suggests("SkylakeX", &avx512, "AVX-512", NULL);
	suggests("Haswell", &avx512, "AVX-512", NULL);
	suggests("Haswell", &avx2, "AVX2", NULL);
	suggests("Sandybridge", &avx, "AVX", NULL);
	suggests("Prescott", &sse, "a CPU without AVX", NULL);
	suggests("Frobnitz", &avx512, "AVX-512", NULL);
	suggests(NULL, &avx512, "AVX-512", NULL);
	return done_testing();
}
