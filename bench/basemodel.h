/*
 * basemodel.h - a RoBERTa-base-shaped BERT (12 layers, hidden 768, 12
 * heads, FFN 3072, 512 positions, a 1000-word vocabulary; random weights
 * from a fixed seed), or an encoder of any shape, for the backend
 * benchmarks, written as GGUF with its matrices f32 or quantized
 * (BBT_GGML_Q8_0 / Q4_0).
 */
#ifndef BBT_BENCH_BASEMODEL_H
#define BBT_BENCH_BASEMODEL_H

#include <stddef.h>
#include <stdint.h>

enum { H = 768, L = 12, HEADS = 12, FF = 3072, NPOS = 512, NV = 1000, B = 32, T = 47, P = 50 };

/* An encoder's shape: layers, hidden size, heads, FFN width, positions,
 * vocabulary. */
struct bench_shape {
	int layers, hidden, heads, ffn, positions, vocab;
};
/* The shape above. */
extern const struct bench_shape bench_base_shape;

/* n values base + uniform(-0.05, 0.05) from the fixed stream (malloc'ed). */
float *bench_buf(size_t n, float base);
/* Write the model to path; 0 or a negative status (printed). */
int bench_write_model(const char *path, uint32_t mtype);
/* The same for a model of shape sh. */
int bench_write_shape(const char *path, uint32_t mtype, const struct bench_shape *sh);

#endif /* BBT_BENCH_BASEMODEL_H */
