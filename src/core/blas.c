/*
 * blas.c - the BLAS in use, and OpenBLAS's fallback to old kernels on a CPU
 * it does not know (see blas.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include <cblas.h>

#include "core/blas.h"
#include "core/log.h"

/* Instruction-set levels, in the order OpenBLAS's cores need them. */
enum isa { ISA_SSE, ISA_AVX, ISA_AVX2, ISA_AVX512 };

/* OpenBLAS's x86 core names (driver/others/dynamic.c) and what each
 * needs. A name not here (another architecture, a newer release) is never
 * called a fallback. */
static const struct {
	const char *name;
	enum isa isa;
} cores[] = {
	{ "Katmai", ISA_SSE },       { "Coppermine", ISA_SSE },  { "Northwood", ISA_SSE },
	{ "Prescott", ISA_SSE },     { "Banias", ISA_SSE },      { "Atom", ISA_SSE },
	{ "Core2", ISA_SSE },        { "Penryn", ISA_SSE },      { "Dunnington", ISA_SSE },
	{ "Nehalem", ISA_SSE },      { "Athlon", ISA_SSE },      { "Opteron", ISA_SSE },
	{ "Opteron_SSE3", ISA_SSE }, { "Barcelona", ISA_SSE },   { "Nano", ISA_SSE },
	{ "Bobcat", ISA_SSE },       { "Sandybridge", ISA_AVX }, { "Bulldozer", ISA_AVX },
	{ "Piledriver", ISA_AVX },   { "Steamroller", ISA_AVX }, { "Excavator", ISA_AVX },
	{ "Haswell", ISA_AVX2 },     { "Zen", ISA_AVX2 },        { "SkylakeX", ISA_AVX512 },
	{ "Cooperlake", ISA_AVX512 }, { "SapphireRapids", ISA_AVX512 },
};

/* The core to suggest for each level: Intel's, which run on AMD too. */
static const char *const core_for_isa[] = { NULL, "Sandybridge", "Haswell", "SkylakeX" };

static enum isa cpu_isa(const struct bbt_cpu_features *cpu)
{
	/* SkylakeX's kernels use AVX-512 BW, VL and DQ, not only F. */
	if (cpu->avx512f && cpu->avx512bw && cpu->avx512vl && cpu->avx512dq)
		return ISA_AVX512;
	if (cpu->avx2 && cpu->fma)
		return ISA_AVX2;
	return cpu->avx ? ISA_AVX : ISA_SSE;
}

void bbt_blas_cpu_features(struct bbt_cpu_features *cpu)
{
	*cpu = (struct bbt_cpu_features){ 0 };
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
	__builtin_cpu_init();   /* may run before the constructors that do it */
	cpu->avx = __builtin_cpu_supports("avx") != 0;
	cpu->avx2 = __builtin_cpu_supports("avx2") != 0;
	cpu->fma = __builtin_cpu_supports("fma") != 0;
	cpu->avx512f = __builtin_cpu_supports("avx512f") != 0;
	cpu->avx512bw = __builtin_cpu_supports("avx512bw") != 0;
	cpu->avx512vl = __builtin_cpu_supports("avx512vl") != 0;
	cpu->avx512dq = __builtin_cpu_supports("avx512dq") != 0;
#endif
}

const char *bbt_blas_suggest_core(const char *core, const struct bbt_cpu_features *cpu)
{
	if (core == NULL)
		return NULL;
	enum isa have = cpu_isa(cpu);
	for (size_t i = 0; i < sizeof cores / sizeof cores[0]; i++) {
		if (strcasecmp(core, cores[i].name) != 0)
			continue;
		/* Only a core older than Haswell is the trap worth a warning:
		 * Haswell's kernels on an AVX-512 CPU lose far less. */
		if (cores[i].isa >= ISA_AVX2 || cores[i].isa >= have)
			return NULL;
		return core_for_isa[have];
	}
	return NULL;
}

void bbt_blas_query(struct bbt_blas *blas)
{
	*blas = (struct bbt_blas){ .library = "cblas" };
#ifdef HAVE_OPENBLAS_GET_CONFIG
	blas->library = "OpenBLAS";
	blas->config = openblas_get_config();
#endif
#ifdef HAVE_OPENBLAS_GET_NUM_THREADS
	blas->threads = openblas_get_num_threads();
#endif
#ifdef HAVE_OPENBLAS_GET_CORENAME
	struct bbt_cpu_features cpu;
	const char *fake = getenv("BBTBENCH_TEST_BLAS_CORE");   /* test hook, see blas.h */
	if (fake != NULL && *fake != '\0') {
		cpu = (struct bbt_cpu_features){ 1, 1, 1, 1, 1, 1, 1 };
		blas->core = fake;
	} else {
		bbt_blas_cpu_features(&cpu);
		blas->core = openblas_get_corename();
	}
	blas->suggested_core = bbt_blas_suggest_core(blas->core, &cpu);
#endif
}

void bbt_blas_describe(const struct bbt_blas *blas, char *buf, size_t len)
{
	char core[96] = "", threads[32] = "";
	if (blas->suggested_core != NULL)
		snprintf(core, sizeof core, ", core %s (a fallback: set OPENBLAS_CORETYPE=%s)",
		         blas->core, blas->suggested_core);
	else if (blas->core != NULL)
		snprintf(core, sizeof core, ", core %s", blas->core);
	if (blas->threads > 0)
		snprintf(threads, sizeof threads, ", %d thread%s", blas->threads,
		         blas->threads == 1 ? "" : "s");
	/* OpenBLAS's config starts with its name and version. */
	snprintf(buf, len, "%s%s%s", blas->config ? blas->config : blas->library, core, threads);
}

void bbt_blas_warn_fallback(const struct bbt_blas *blas)
{
	static int said;
	if (said || blas->suggested_core == NULL)
		return;
	said = 1;
	bbt_log(BBT_LOG_WARNING, NULL,
	        "OpenBLAS runs its %s kernels, far older than this CPU, so every matrix "
	        "product is several times slower; set OPENBLAS_CORETYPE=%s in the environment",
	        blas->core, blas->suggested_core);
}

void bbt_blas_print_header(FILE *f)
{
	struct bbt_blas blas;
	char line[512];
	bbt_blas_query(&blas);
	bbt_blas_describe(&blas, line, sizeof line);
	fprintf(f, "BLAS: %s\n", line);
	fflush(f);   /* before the warning on stderr, when both go to one file */
	bbt_blas_warn_fallback(&blas);
}
