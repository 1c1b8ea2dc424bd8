/* openvision_f32.c's whole float32 vision blocks for CPUs with AVX2 and FMA but no AVX-512 (Intel desktops and laptops,
   AMD before Zen 4), for OpenVision/Layers/Float32Ops.cs: the same packed weights, work split and entry points
   (openvision_f32_api.h), with 8-lane vectors. AVX2 has 16 vector registers, so a tile of up to 12 rows × 32 columns
   is summed as sub-tiles of up to 6 rows × 16 columns (on a 2-core Zen 1, whole ViT-Ti and ViT-B towers ran 1-2 %
   faster than with 4-row sub-tiles in tiles of 8, at 60-64 GFLOP/s against an FMA loop's 70); each chunk of KC terms
   of a sum runs from zero and is added to the total in order, as in openvision_f32.c, so the linear layers round
   exactly as there. Every output element is one sum in a fixed order whatever the batch size, the thread count
   or the split between threads. Nothing is printed. */
#define _GNU_SOURCE
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include "openvision_simd_avx2.h"

#define MR 12 /* rows per tile: two sub-tiles of 6 (see accumulate) */
#include "openvision_f32_api.h"

/* 0: the CPU lacks AVX2 or FMA; 1: it has them but libtorch's OpenMP runtime was not found (not used then); 2: ready.
   Call after libtorch is loaded. */
int ov_f32_init(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
    return ov_find_openmp() ? 2 : 1;
}

/* How many terms ahead the first sub-tiles of a tile ask for their panel's lines (4 KB), where a panel is longer than
   PREFETCH_ABOVE terms (32 KB, L1's size on the CPUs this library is for): such a panel comes from L2 once per tile,
   and the hardware prefetcher alone left the kernel waiting for it (on a 2-core Zen 1, one thread's ViT-B linear layers
   ran 2-7 % faster with it; any distance from 16 to 64 terms did as well). A shorter panel stays in L1 from one tile
   to the next, and asking for the next panel's first lines there can only evict it (ViT-Ti batch 32 read 0.92-0.96x
   with them in one run, level in the next: within this machine's noise). */
#define PREFETCH_TERMS 32
#define PREFETCH_ABOVE 256

/* Terms [k0, k1) of the sums of `rows` (≤ 6) rows × 16 columns, x's rows `lda` apart times 16 columns of a packed
   panel (32 floats apart), from zero, then added to c (rows `ldc` apart): 12 accumulators, 2 weight vectors and a
   broadcast, 15 of AVX2's 16 registers. `prefetch`: also ask for the panel's line PREFETCH_TERMS terms ahead (a
   prefetch never faults, so past the panel's end it is harmless). Always inlined with a constant `rows`; `prefetch` is
   constant too except in a tile of under 6 rows (a layer's last), where the branch is taken the same way every term. */
OV_AVX2_INLINE static void chunk(const float *x, int64_t lda, int k0, int k1, const float *columns, float *c, int64_t ldc, int rows,
                                 int prefetch) {
    __m256 s[12];
    for (int i = 0; i < 2 * rows; i++) s[i] = _mm256_setzero_ps();
    for (int kk = k0; kk < k1; kk++) {
        if (prefetch) __builtin_prefetch(columns + (int64_t)(kk + PREFETCH_TERMS) * NR, 0, 3);
        __m256 w0 = _mm256_loadu_ps(columns + (int64_t)kk * NR), w1 = _mm256_loadu_ps(columns + (int64_t)kk * NR + 8);
        for (int i = 0; i < rows; i++) {
            __m256 a = _mm256_broadcast_ss(x + i * lda + kk);
            s[2 * i] = _mm256_fmadd_ps(a, w0, s[2 * i]);
            s[2 * i + 1] = _mm256_fmadd_ps(a, w1, s[2 * i + 1]);
        }
    }
    for (int i = 0; i < rows; i++) {
        float *to = c + i * ldc;
        _mm256_storeu_ps(to, _mm256_add_ps(_mm256_loadu_ps(to), s[2 * i]));
        _mm256_storeu_ps(to + 8, _mm256_add_ps(_mm256_loadu_ps(to + 8), s[2 * i + 1]));
    }
}

/* The sums of a rows × 32 tile (x's rows `lda` apart times one packed panel over k) added to c (rows `ldc` apart,
   holding the starting values): chunk by chunk of KC terms, so a chunk of the panel (16 KB) is read from L1 by every
   sub-tile; where the panel is too long to stay in L1, the first sub-tiles bring it there. Always inlined with a
   constant row count. */
OV_AVX2_INLINE static void accumulate(const float *x, int64_t lda, int k, const float *panel, float *c, int64_t ldc, int rows) {
    int far = k > PREFETCH_ABOVE;
    for (int k0 = 0; k0 < k; k0 += KC) {
        int k1 = k - k0 < KC ? k : k0 + KC;
#define OV_CHUNK(i, count, prefetch) \
        do { \
            chunk(x + (i) * lda, lda, k0, k1, panel, c + (i) * ldc, ldc, count, prefetch); \
            chunk(x + (i) * lda, lda, k0, k1, panel + 16, c + (i) * ldc + 16, ldc, count, prefetch); \
        } while (0)
        if (rows >= 6) {
            if (far) OV_CHUNK(0, 6, 1);
            else OV_CHUNK(0, 6, 0);
        }
        if (rows >= 12) OV_CHUNK(6, 6, 0);
        int g = rows >= 12 ? 12 : rows >= 6 ? 6 : 0, first = g == 0 && far;
        switch (rows - g) {
        case 5: OV_CHUNK(g, 5, first); break; case 4: OV_CHUNK(g, 4, first); break; case 3: OV_CHUNK(g, 3, first); break;
        case 2: OV_CHUNK(g, 2, first); break; case 1: OV_CHUNK(g, 1, first); break;
        }
#undef OV_CHUNK
    }
}

/* A linear layer's rows × 32 tile of y: bias, sums, GELU if asked, residual; `columns` of the 32 are stored. */
OV_AVX2_INLINE static void tile(const float *x, int k, const float *panel, const float *bias, int activate, const float *residual,
                                float *y, int n, int columns, int rows) {
    float c[MR * NR] __attribute__((aligned(32)));
    for (int v = 0; v < 4; v++) {
        __m256 b = bias ? load_first(bias + 8 * v, columns - 8 * v) : _mm256_setzero_ps();
        for (int i = 0; i < rows; i++) _mm256_store_ps(c + i * NR + 8 * v, b);
    }
    accumulate(x, k, k, panel, c, NR, rows);
    for (int i = 0; i < rows; i++) {
        __m256 o[4];
        for (int v = 0; v < 4; v++) o[v] = _mm256_load_ps(c + i * NR + 8 * v);
        if (activate) gelu8_lockstep(o, 4);
        for (int v = 0; v < 4; v++) {
            if (residual) o[v] = _mm256_add_ps(o[v], load_first(residual + (int64_t)i * n + 8 * v, columns - 8 * v));
            store_first(y + (int64_t)i * n + 8 * v, columns - 8 * v, o[v]);
        }
    }
}

/* An attention product's rows × 32 tile (x's rows `lda` apart), stored whole into c (rows `ldc` apart). */
OV_AVX2_INLINE static void tile_plain(const float *x, int64_t lda, int k, const float *panel, float *c, int ldc, int rows) {
    for (int i = 0; i < rows; i++)
        for (int v = 0; v < 4; v++) _mm256_storeu_ps(c + i * ldc + 8 * v, _mm256_setzero_ps());
    accumulate(x, lda, k, panel, c, ldc, rows);
}

OV_AVX2 static void tile_rows(const float *x, int k, const float *panel, const float *bias, int activate, const float *residual,
                              float *y, int n, int columns, int rows) {
#define OV_TILE(r) tile(x, k, panel, bias, activate, residual, y, n, columns, r)
    OV_BY_ROWS(OV_TILE)
#undef OV_TILE
}

OV_AVX2 static void tile_plain_rows(const float *x, int64_t lda, int k, const float *panel, float *c, int ldc, int rows) {
#define OV_TILE(r) tile_plain(x, lda, k, panel, c, ldc, r)
    OV_BY_ROWS(OV_TILE)
#undef OV_TILE
}

/* ---- Attention, as in openvision_f32.c: softmax(q·kᵀ·scale)·v per head, the probabilities divided by their sum at
   the end, read from the in_proj output [B, L, 3, H, hd] and written with the heads merged, [B, L, H·hd]. */

/* One head's keys as a weight (panels of 32 keys, dimension d of each key side by side, zeros past the last key) and
   its values (panels of 32 dimensions, one row per key, zeros past the last dimension). The keys are transposed
   element by element: a few µs per head, against a few hundred for its products. */
OV_AVX2 static void pack_head(const float *k, const float *v, int64_t row, int L, int hd, float *keys, float *values) {
    int key_panels = (L + NR - 1) / NR, value_panels = (hd + NR - 1) / NR;
    for (int p = 0; p < key_panels; p++) {
        float *panel = keys + (int64_t)p * hd * NR;
        for (int j = 0; j < NR; j++) {
            int t = p * NR + j;
            const float *from = k + (int64_t)t * row;
            for (int d = 0; d < hd; d++) panel[(int64_t)d * NR + j] = t < L ? from[d] : 0.0f;
        }
    }
    for (int p = 0; p < value_panels; p++)
        for (int t = 0; t < L; t++) {
            const float *from = v + (int64_t)t * row + p * NR;
            float *to = values + ((int64_t)p * L + t) * NR;
            for (int c = 0; c < NR; c += 8) _mm256_storeu_ps(to + c, load_first(from + c, hd - p * NR - c));
        }
}

/* The softmax numerators of `count` (≤ 4) rows of scores (`Lpad` apart; L valid, zeros up to Lpad), e^(s·scale − max),
   in place of the scores, their sums into `sums`; the rows in lockstep, each row's bits those of a row alone. */
OV_AVX2_INLINE static void softmax_rows(float *scores, int Lpad, int L, __m256 scale, float *sums, int count) {
    const __m256 none = _mm256_set1_ps(-INFINITY);
    __m256 peak[4], total[4];
    for (int i = 0; i < count; i++) peak[i] = none;
    for (int t = 0; t < L; t += 8) {
        __m256 valid = _mm256_castsi256_ps(first8(L - t));
        for (int i = 0; i < count; i++)
            peak[i] = _mm256_max_ps(peak[i], _mm256_blendv_ps(none, _mm256_mul_ps(_mm256_loadu_ps(scores + (int64_t)i * Lpad + t), scale), valid));
    }
    for (int i = 0; i < count; i++) {
        peak[i] = _mm256_set1_ps(max8(peak[i]));
        total[i] = _mm256_setzero_ps();
    }
    for (int t = 0; t < L; t += 8) {
        __m256 valid = _mm256_castsi256_ps(first8(L - t)), e[4];
        for (int i = 0; i < count; i++) e[i] = _mm256_sub_ps(_mm256_mul_ps(_mm256_loadu_ps(scores + (int64_t)i * Lpad + t), scale), peak[i]);
        exp8_nonpositive_lockstep(e, count);
        for (int i = 0; i < count; i++) {
            e[i] = _mm256_and_ps(e[i], valid);
            total[i] = _mm256_add_ps(total[i], e[i]);
            _mm256_storeu_ps(scores + (int64_t)i * Lpad + t, e[i]); /* within Lpad, a multiple of 32 */
        }
    }
    for (int i = 0; i < count; i++) sums[i] = sum8(total[i]);
}

/* Queries [q0, q1) of one head of one image, its keys and values packed first: per 8 queries, scores, softmax,
   probabilities · values, the division by the sums. */
OV_AVX2 static void attention_head(const struct attention_job *j, int64_t head, int q0, int q1, const struct attention_buffers *a) {
    int L = j->tokens, hd = j->head_width, H = j->heads;
    int64_t D = (int64_t)H * hd, row = 3 * D;
    int b = (int)(head / H), h = (int)(head % H);
    int key_panels = (L + NR - 1) / NR, Lpad = key_panels * NR;
    int value_panels = (hd + NR - 1) / NR, hdpad = value_panels * NR;
    const float *q = head_queries(j, head);
    pack_head(q + D, q + 2 * D, row, L, hd, a->keys, a->values);
    __m256 scale = _mm256_set1_ps(j->scale);
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
            __m256 sum = _mm256_set1_ps(a->sums[i]);
            float *to = j->out + ((int64_t)b * L + i0 + i) * D + (int64_t)h * hd;
            for (int d = 0; d < hd; d += 8)
                store_first(to + d, hd - d, _mm256_div_ps(_mm256_loadu_ps(a->outputs + (int64_t)i * hdpad + d), sum));
        }
    }
}

/* ---- LayerNorm of float32 rows, as in openvision_f32.c: the mean, the mean square of the deviations,
   (x − mean)·rstd·γ + β; rows in groups of four in lockstep, each row's bits those of a row alone. */
OV_AVX2_INLINE static void norm_group(const struct norm_job *j, int64_t r, int count) {
    int w = j->w;
    __m256 total[4], centre[4], squares[4], rstd[4];
    for (int i = 0; i < count; i++) total[i] = _mm256_setzero_ps();
    for (int c = 0; c < w; c += 8)
        for (int i = 0; i < count; i++) total[i] = _mm256_add_ps(total[i], load_first(j->x + (r + i) * w + c, w - c));
    for (int i = 0; i < count; i++) {
        centre[i] = _mm256_set1_ps(sum8(total[i]) / w);
        squares[i] = _mm256_setzero_ps();
    }
    for (int c = 0; c < w; c += 8) {
        __m256 valid = _mm256_castsi256_ps(first8(w - c));
        for (int i = 0; i < count; i++) {
            __m256 d = _mm256_and_ps(_mm256_sub_ps(load_first(j->x + (r + i) * w + c, w - c), centre[i]), valid);
            squares[i] = _mm256_fmadd_ps(d, d, squares[i]);
        }
    }
    for (int i = 0; i < count; i++) rstd[i] = _mm256_set1_ps(1.0f / sqrtf(sum8(squares[i]) / w + j->eps));
    for (int c = 0; c < w; c += 8)
        for (int i = 0; i < count; i++) {
            __m256 v = _mm256_mul_ps(_mm256_sub_ps(load_first(j->x + (r + i) * w + c, w - c), centre[i]), rstd[i]);
            v = j->gamma ? _mm256_mul_ps(v, load_first(j->gamma + c, w - c)) : v;
            v = j->beta ? _mm256_add_ps(v, load_first(j->beta + c, w - c)) : v;
            store_first(j->y + (r + i) * w + c, w - c, v);
        }
}

OV_AVX2 static void norm_rows(const struct norm_job *j, int64_t r0, int64_t r1) {
#define OV_NORM(r, count) norm_group(j, r, count)
    OV_IN_FOURS(r0, r1, OV_NORM);
#undef OV_NORM
}

OV_AVX2 static void cut_run(const struct embed_job *e, int64_t at, float *to, int n) {
    const float *pixels = (const float *)e->pixels + at; /* float32 pixels: this library's element type */
    for (int i = 0; i < n; i += 8) store_first(to + i, n - i, load_first(pixels + i, n - i));
}

OV_AVX2 static void add_row(const float *a, const float *b, float *y, int w) {
    for (int c = 0; c < w; c += 8) store_first(y + c, w - c, _mm256_add_ps(load_first(a + c, w - c), load_first(b + c, w - c)));
}
