/* The vision blocks of float32 models at inference, for OpenVision/Layers/Float32Ops.cs: a whole pre-norm block (layer
   norms, linear layers with bias, exact GELU and the skip connections, multi-head attention) in one call, with AVX-512
   fused multiply-adds. libtorch's MKL GEMM runs ViT-Tiny's and ViT-Base's linear layers at batch 1 at 120-175 GFLOP/s on
   two AMD Zen 4 cores, this kernel at 175-210 (docs/speed.md), because the weights are packed once (MKL packs them on
   every call) and the 8 × 32 tile keeps 16 accumulators in registers; libtorch's attention ran at a third of the GEMM
   rate there. Every output element is one sum in a fixed order whatever the batch size, the thread count or the split
   between threads: a block's output for an image does not depend on what it was batched with. The work runs on libtorch's own OpenMP
   pool (its GOMP_parallel, found through libtorch_cpu.so), so its threads never compete with ours. Nothing is printed. */
#define _GNU_SOURCE
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include "openvision_simd.h"

#include "openvision_f32_api.h"

/* 0: the CPU lacks AVX-512; 1: it has it but libtorch's OpenMP runtime was not found (not used then); 2: ready. Call
   after libtorch is loaded. */
int ov_f32_init(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) return 0;
    return ov_find_openmp() ? 2 : 1;
}

/* The sums of a rows × 32 tile: x's rows `lda` apart times one packed panel over k, added to c0/c1 (columns 0-15 and
   16-31, holding the starting values). The sum runs in chunks of KC terms, each from zero, added to the total in
   order: the rounding error then grows with the chunk length and the number of chunks rather than with k (one chain
   over ViT-B's k = 3072 had 3.7 times libtorch's error against float64, whose MKL also sums in blocks of k). Always
   inlined with a constant row count, so the accumulators stay in registers. */
__attribute__((target("avx512f"), always_inline))
static inline void accumulate(const float *x, int64_t lda, int k, const float *panel, __m512 *c0, __m512 *c1, int rows) {
    for (int k0 = 0; k0 < k; k0 += KC) {
        int k1 = k - k0 < KC ? k : k0 + KC;
        __m512 s0[MR], s1[MR];
        for (int i = 0; i < rows; i++) { s0[i] = _mm512_setzero_ps(); s1[i] = _mm512_setzero_ps(); }
        for (int kk = k0; kk < k1; kk++) {
            __m512 w0 = _mm512_loadu_ps(panel + (int64_t)kk * NR), w1 = _mm512_loadu_ps(panel + (int64_t)kk * NR + 16);
            for (int i = 0; i < rows; i++) {
                __m512 a = _mm512_set1_ps(x[i * lda + kk]);
                s0[i] = _mm512_fmadd_ps(a, w0, s0[i]);
                s1[i] = _mm512_fmadd_ps(a, w1, s1[i]);
            }
        }
        for (int i = 0; i < rows; i++) { c0[i] = _mm512_add_ps(c0[i], s0[i]); c1[i] = _mm512_add_ps(c1[i], s1[i]); }
    }
}

/* A linear layer's rows × 32 tile of y: bias, sums, GELU if asked, residual; `columns` of the 32 are stored. */
__attribute__((target("avx512f"), always_inline))
static inline void tile(const float *x, int k, const float *panel, const float *bias, int activate, const float *residual,
                        float *y, int n, int columns, int rows) {
    __m512 c0[MR], c1[MR];
    __m512 b0 = bias ? _mm512_maskz_loadu_ps(first(columns), bias) : _mm512_setzero_ps();
    __m512 b1 = bias ? _mm512_maskz_loadu_ps(first(columns - 16), bias + 16) : _mm512_setzero_ps();
    for (int i = 0; i < rows; i++) { c0[i] = b0; c1[i] = b1; }
    accumulate(x, k, k, panel, c0, c1, rows);
    if (activate) {
        gelu_lockstep(c0, rows);
        gelu_lockstep(c1, rows);
    }
    for (int i = 0; i < rows; i++) {
        float *to = y + (int64_t)i * n;
        if (residual) {
            const float *skip = residual + (int64_t)i * n;
            c0[i] = _mm512_add_ps(c0[i], _mm512_maskz_loadu_ps(first(columns), skip));
            c1[i] = _mm512_add_ps(c1[i], _mm512_maskz_loadu_ps(first(columns - 16), skip + 16));
        }
        _mm512_mask_storeu_ps(to, first(columns), c0[i]);
        _mm512_mask_storeu_ps(to + 16, first(columns - 16), c1[i]);
    }
}

/* An attention product's rows × 32 tile (x's rows `lda` apart), stored whole into c (rows `ldc` apart). */
__attribute__((target("avx512f"), always_inline))
static inline void tile_plain(const float *x, int64_t lda, int k, const float *panel, float *c, int ldc, int rows) {
    __m512 c0[MR], c1[MR];
    for (int i = 0; i < rows; i++) { c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps(); }
    accumulate(x, lda, k, panel, c0, c1, rows);
    for (int i = 0; i < rows; i++) { _mm512_storeu_ps(c + i * ldc, c0[i]); _mm512_storeu_ps(c + i * ldc + 16, c1[i]); }
}

__attribute__((target("avx512f")))
static void tile_rows(const float *x, int k, const float *panel, const float *bias, int activate, const float *residual,
                      float *y, int n, int columns, int rows) {
#define OV_TILE(r) tile(x, k, panel, bias, activate, residual, y, n, columns, r)
    OV_BY_ROWS(OV_TILE)
#undef OV_TILE
}

__attribute__((target("avx512f")))
static void tile_plain_rows(const float *x, int64_t lda, int k, const float *panel, float *c, int ldc, int rows) {
#define OV_TILE(r) tile_plain(x, lda, k, panel, c, ldc, r)
    OV_BY_ROWS(OV_TILE)
#undef OV_TILE
}

/* ---- Attention: softmax(q·kᵀ·scale)·v per head in float32 (the probabilities unnormalised until the end, divided by
   their sum as libtorch's CPU flash attention does), read straight from the in_proj output [B, L, 3, H, hd] and written
   with the heads already merged, [B, L, H·hd]. */

/* One head's keys as a weight (panels of 32 keys, dimension d of each key side by side, zeros past the last key) and
   its values (panels of 32 dimensions, one row per key, zeros past the last dimension). */
__attribute__((target("avx512f")))
static void pack_head(const float *k, const float *v, int64_t row, int L, int hd, float *keys, float *values) {
    int key_panels = (L + NR - 1) / NR, value_panels = (hd + NR - 1) / NR;
    for (int p = 0; p < key_panels; p++)
        for (int half = 0; half < 2; half++) {
            int key0 = p * NR + half * 16, rows = L - key0 < 16 ? (L - key0 > 0 ? L - key0 : 0) : 16;
            const int32_t *from = (const int32_t *)(k + (int64_t)key0 * row);
            int32_t *to = (int32_t *)(keys + (int64_t)p * hd * NR) + half * 16;
            for (int d0 = 0; d0 < hd; d0 += 16)
                transpose_words(from + d0, row, rows, hd - d0 < 16 ? hd - d0 : 16, to + (int64_t)d0 * NR, NR);
        }
    for (int p = 0; p < value_panels; p++) {
        __mmask16 low = first(hd - p * NR), high = first(hd - p * NR - 16);
        for (int t = 0; t < L; t++) {
            const float *from = v + (int64_t)t * row + p * NR;
            float *to = values + ((int64_t)p * L + t) * NR;
            _mm512_storeu_ps(to, _mm512_maskz_loadu_ps(low, from));
            _mm512_storeu_ps(to + 16, _mm512_maskz_loadu_ps(high, from + 16));
        }
    }
}

/* The softmax numerators of `count` rows of scores (`Lpad` apart; L valid), e^(s·scale − max), in place of the
   scores, their sums into `sums`. The rows go in lockstep, each step on all of them before the next, so that one row's
   chains of dependent maxima, sums and reductions overlap the others' (see openvision_bf16.c's softmax_rows); each
   row's arithmetic, and so its bits, is that of a row alone. Always inlined with a constant count (at most 4). */
__attribute__((target("avx512f"), always_inline))
static inline void softmax_rows(float *scores, int Lpad, int L, __m512 scale, float *sums, int count) {
    __m512 peak[4], total[4];
    scaled_maxima(scores, Lpad, L, scale, peak, count);
    for (int i = 0; i < count; i++) total[i] = _mm512_setzero_ps();
    for (int t = 0; t < L; t += 16) {
        __mmask16 valid = first(L - t);
        __m512 e[4];
        for (int i = 0; i < count; i++) e[i] = _mm512_sub_ps(_mm512_mul_ps(_mm512_loadu_ps(scores + (int64_t)i * Lpad + t), scale), peak[i]);
        exp_nonpositive_lockstep(e, count);
        for (int i = 0; i < count; i++) {
            e[i] = _mm512_maskz_mov_ps(valid, e[i]);
            total[i] = _mm512_add_ps(total[i], e[i]);
            _mm512_mask_storeu_ps(scores + (int64_t)i * Lpad + t, valid, e[i]);
        }
    }
    for (int i = 0; i < count; i++) sums[i] = _mm512_reduce_add_ps(total[i]);
}

/* Queries [q0, q1) of one head of one image, its keys and values packed first: per 8 queries, scores, softmax,
   probabilities · values, the division by the sums. */
__attribute__((target("avx512f")))
static void attention_head(const struct attention_job *j, int64_t head, int q0, int q1, const struct attention_buffers *a) {
    int L = j->tokens, hd = j->head_width, H = j->heads;
    int64_t D = (int64_t)H * hd, row = 3 * D;
    int b = (int)(head / H), h = (int)(head % H);
    int key_panels = (L + NR - 1) / NR, Lpad = key_panels * NR;
    int value_panels = (hd + NR - 1) / NR, hdpad = value_panels * NR;
    const float *q = head_queries(j, head);
    pack_head(q + D, q + 2 * D, row, L, hd, a->keys, a->values);
    __m512 scale = _mm512_set1_ps(j->scale);
    for (int i0 = q0; i0 < q1; i0 += MR) {
        int rows = q1 - i0 < MR ? q1 - i0 : MR;
        for (int p = 0; p < key_panels; p++)
            tile_plain_rows(q + i0 * row, row, hd, a->keys + (int64_t)p * hd * NR, a->scores + p * NR, Lpad, rows);
#define OV_SOFTMAX(i, count) softmax_rows(a->scores + (i) * Lpad, Lpad, L, scale, a->sums + (i), count)
        OV_IN_FOURS(0, rows, OV_SOFTMAX);
#undef OV_SOFTMAX
        for (int p = 0; p < value_panels; p++)
            tile_plain_rows(a->scores, Lpad, L, a->values + (int64_t)p * L * NR, a->outputs + p * NR, hdpad, rows);
        for (int i = 0; i < rows; i++) {
            __m512 sum = _mm512_set1_ps(a->sums[i]);
            float *to = j->out + ((int64_t)b * L + i0 + i) * D + (int64_t)h * hd;
            for (int d = 0; d < hd; d += 16)
                _mm512_mask_storeu_ps(to + d, first(hd - d), _mm512_div_ps(_mm512_loadu_ps(a->outputs + (int64_t)i * hdpad + d), sum));
        }
    }
}

/* ---- LayerNorm of float32 rows: the mean, then the mean square of the deviations, (x − mean)·rstd·γ + β. Rows go in
   groups of four in lockstep so that their chains of dependent sums overlap (see openvision_bf16.c's norm_rows); each
   row's arithmetic, and so its bits, is that of a row alone. */
__attribute__((target("avx512f"), always_inline))
static inline void norm_group(const struct norm_job *j, int64_t r, int count) {
    int w = j->w;
    __m512 total[4], centre[4], squares[4], rstd[4];
    for (int i = 0; i < count; i++) total[i] = _mm512_setzero_ps();
    for (int c = 0; c < w; c += 16)
        for (int i = 0; i < count; i++) total[i] = _mm512_add_ps(total[i], _mm512_maskz_loadu_ps(first(w - c), j->x + (r + i) * w + c));
    for (int i = 0; i < count; i++) {
        centre[i] = _mm512_set1_ps(_mm512_reduce_add_ps(total[i]) / w);
        squares[i] = _mm512_setzero_ps();
    }
    for (int c = 0; c < w; c += 16)
        for (int i = 0; i < count; i++) {
            __m512 d = _mm512_maskz_sub_ps(first(w - c), _mm512_maskz_loadu_ps(first(w - c), j->x + (r + i) * w + c), centre[i]);
            squares[i] = _mm512_fmadd_ps(d, d, squares[i]);
        }
    for (int i = 0; i < count; i++) rstd[i] = _mm512_set1_ps(1.0f / sqrtf(_mm512_reduce_add_ps(squares[i]) / w + j->eps));
    for (int c = 0; c < w; c += 16) {
        __mmask16 valid = first(w - c);
        for (int i = 0; i < count; i++) {
            __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(valid, j->x + (r + i) * w + c), centre[i]), rstd[i]);
            v = j->gamma ? _mm512_mul_ps(v, _mm512_maskz_loadu_ps(valid, j->gamma + c)) : v;
            v = j->beta ? _mm512_add_ps(v, _mm512_maskz_loadu_ps(valid, j->beta + c)) : v;
            _mm512_mask_storeu_ps(j->y + (r + i) * w + c, valid, v);
        }
    }
}

__attribute__((target("avx512f")))
static void norm_rows(const struct norm_job *j, int64_t r0, int64_t r1) {
#define OV_NORM(r, count) norm_group(j, r, count)
    OV_IN_FOURS(r0, r1, OV_NORM);
#undef OV_NORM
}

__attribute__((target("avx512f")))
static void cut_run(const struct embed_job *e, int64_t at, float *to, int n) {
    const float *pixels = (const float *)e->pixels + at; /* float32 pixels: this library's element type */
    for (int i = 0; i < n; i += 16) _mm512_mask_storeu_ps(to + i, first(n - i), _mm512_maskz_loadu_ps(first(n - i), pixels + i));
}

__attribute__((target("avx512f")))
static void add_row(const float *a, const float *b, float *y, int w) {
    for (int c = 0; c < w; c += 16)
        _mm512_mask_storeu_ps(y + c, first(w - c), _mm512_add_ps(_mm512_maskz_loadu_ps(first(w - c), a + c), _mm512_maskz_loadu_ps(first(w - c), b + c)));
}
