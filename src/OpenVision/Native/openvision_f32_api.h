/* What the float32 kernel libraries share, whichever instructions their kernels use (openvision_f32.c: AVX-512;
   openvision_f32_avx2.c: AVX2 and FMA): the element type, the packed weight layout, the work split of
   openvision_schedule.h and the exported entry points, which Layers/Float32Ops.cs calls alike in either library. The
   including file defines the kernels openvision_schedule.h declares and ov_f32_init. */
#ifndef OPENVISION_F32_API_H
#define OPENVISION_F32_API_H
#include <stdlib.h>
#include <stdint.h>

typedef float ov_t;
/* The calling pool thread's attention buffers (see attention_buffers). */
struct attention_buffers {
    float *keys, *values, *scores, *sums, *outputs;
};
#include "openvision_schedule.h"

#define KC 128 /* terms per chunk of a sum: each chunk summed from zero, then added to the total in order */

/* Bytes of the packed form of an n × k weight: panels of 32 rows, zero-padded. */
int64_t ov_f32_packed_bytes(int n, int k) { return (int64_t)((n + NR - 1) / NR) * NR * k * 4; }

/* W [n, k] row-major → panels p of [k][32]: element k of each of the panel's 32 rows side by side. */
void ov_f32_pack(const float *w, int n, int k, float *packed) {
    int panels = (n + NR - 1) / NR;
    for (int p = 0; p < panels; p++)
        for (int j = 0; j < NR; j++) {
            int row = p * NR + j;
            float *to = packed + (int64_t)p * k * NR + j;
            for (int kk = 0; kk < k; kk++) to[(int64_t)kk * NR] = row < n ? w[(int64_t)row * k + kk] : 0;
        }
}

/* The calling pool thread's attention buffers, a few hundred KB at ViT sizes, in its scratch memory (ov_thread_scratch); 0
   when out of memory. */
static int attention_buffers(const struct attention_job *j, struct attention_buffers *buffers) {
    int L = j->tokens, hd = j->head_width;
    int key_panels = (L + NR - 1) / NR, Lpad = key_panels * NR, hdpad = (hd + NR - 1) / NR * NR;
    size_t bytes = ((size_t)Lpad * hd + (size_t)hdpad * L + (size_t)MR * Lpad + MR + (size_t)MR * hdpad) * 4 + 5 * 64;
    char *at = ov_thread_scratch(bytes);
    if (!at) return 0; /* out of memory: nothing sensible is left to do here */
#define OV_TAKE(name, count) buffers->name = (float *)at; at += ((size_t)(count) * 4 + 63) / 64 * 64;
    OV_TAKE(keys, (size_t)Lpad * hd)
    OV_TAKE(values, (size_t)hdpad * L)
    OV_TAKE(scores, (size_t)MR * Lpad)
    OV_TAKE(sums, MR)
    OV_TAKE(outputs, (size_t)MR * hdpad)
#undef OV_TAKE
    return 1;
}

/* y [m, n] = x [m, k] · Wᵀ (+ bias [n] or null), then the blocks' exact GELU if `activate`, W packed by ov_f32_pack;
   row-major: the patch embedding of float32 models (its patches as rows), where libtorch's convolution took 1.0-1.75
   times as long (docs/speed.md); with the GELU, how tests reach the blocks' activation. */
void ov_f32_linear(const float *x, int64_t m, int k, const float *packed, int n, const float *bias, int activate, float *y, int threads) {
    struct job j = {x, packed, bias, activate, 0, y, m, n, k};
    gomp_parallel(run_claimed, &j, threads > 0 ? (unsigned)threads : 0u, 0);
}

/* y [B, 1 + g², W] = the tokens of images [B, C, S, S] (float32, contiguous; g = S / p): the class token [W] plus the
   first row of `positions` [1 + g², W], then each patch (its C·p·p values cut out into `patches`, [B·g², C·p·p]) times
   the filters (packed by ov_f32_pack from [W, C·p·p]) plus the next row. The same sums as ov_f32_linear and the same
   single additions as adding the table afterwards: the same bits, in one call. */
void ov_f32_embed(const float *pixels, int64_t batch, int channels, int side, int patch, const float *packed, int width,
                  const float *class_token, const float *positions, float *patches, float *y, int threads) {
    struct embed_job e = {pixels, packed, class_token, positions, patches, y, batch, channels, side, patch, side / patch, width, 0};
    run_embed(&e, threads);
}

/* ---- Whole blocks (openvision_schedule.h's run_tower); the layers as struct block_layers with float elements. */

/* Floats of scratch memory ov_f32_tower needs for `rows` = batch × tokens. */
int64_t ov_f32_block_scratch(int64_t rows, int width, int hidden) { return block_scratch(rows, width, hidden); }

/* y [B, L, W] = `count` blocks (weights packed by ov_f32_pack) applied in turn to x [B, L, W] (float32, contiguous) in
   one parallel region. y and spare [B, L, W] must not overlap x or each other; spare may be null for one block. */
void ov_f32_tower(const float *x, int64_t batch, int tokens, const struct block_layers *layers, int count, float *scratch, float *y,
                  float *spare, int threads) {
    run_tower(x, batch, tokens, layers, count, scratch, y, spare, threads);
}
#endif
