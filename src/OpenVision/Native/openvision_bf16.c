/* The kernels of bfloat16 models, for OpenVision/Layers/BFloat16Ops.cs: linear layers, y = round_bf16(x·Wᵀ + b
   [, GELU] [+ residual]), with AVX512-BF16 dot products (vdpbf16ps) and float32 accumulation; attention; layer norm;
   and the bf16 peak loop `bench` measures. libtorch's oneDNN kernel reaches 70-80 % of the bf16 peak on
   AMD Zen 5 at the ViT shapes; this one 85-95 %, because the weights are packed once (libtorch repacks them on every
   call) and the 8 × 32 tile keeps 16 accumulators in registers. The work runs on libtorch's own OpenMP pool (its
   GOMP_parallel, found through libtorch_cpu.so), so its threads never compete with ours. Nothing is printed. */
#define _GNU_SOURCE
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include "openvision_simd.h"

typedef uint16_t ov_t;
/* What every vector function here may use: the CPUs with AVX512-BF16 (AMD Zen 4 and 5, Intel Cooper Lake and Sapphire
   Rapids on) have all of it; ov_bf16_init checks. */
#define OV_TARGET "avx512f,avx512bw,avx512vl,avx512dq,avx512bf16"
/* The calling pool thread's attention buffers (see attention_buffers). */
struct attention_buffers {
    uint16_t *keys, *values, *probabilities;
    float *scores, *sums, *outputs;
};
#include "openvision_schedule.h"

/* 0: the CPU lacks AVX512-BF16 or the AVX-512 subsets that come with it; 1: it has them but libtorch's OpenMP runtime
   was not found (not used then); 2: ready; 3: the CPU has AMX-BF16 (Intel Sapphire Rapids on), whose tile products
   libtorch's oneDNN uses: there it ran ViT-Ti's and ViT-B's linear layers in bfloat16 3-5 times as fast as in float32
   on 2 of 16 cores, where vdpbf16ps, at one per cycle, made these kernels slower than float32 (docs/speed.md). Call
   after libtorch is loaded. */
int ov_bf16_init(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl")
        || !__builtin_cpu_supports("avx512dq") || !__builtin_cpu_supports("avx512bf16"))
        return 0;
    if (__builtin_cpu_supports("amx-bf16")) return 3;
    return ov_find_openmp() ? 2 : 1;
}

/* Bytes of the packed form of an n × k weight (k even): panels of 32 rows, zero-padded. */
int64_t ov_bf16_packed_bytes(int n, int k) { return (int64_t)((n + NR - 1) / NR) * NR * k * 2; }

/* W [n, k] row-major → panels p of [k/2][32][2]: the pair (k, k+1) of each of the panel's 32 rows side by side. */
void ov_bf16_pack(const uint16_t *w, int n, int k, uint16_t *packed) {
    int panels = (n + NR - 1) / NR;
    for (int p = 0; p < panels; p++)
        for (int kk = 0; kk < k / 2; kk++) {
            uint16_t *to = packed + ((int64_t)p * (k / 2) + kk) * NR * 2;
            for (int j = 0; j < NR; j++) {
                int row = p * NR + j;
                to[2 * j] = row < n ? w[(int64_t)row * k + 2 * kk] : 0;
                to[2 * j + 1] = row < n ? w[(int64_t)row * k + 2 * kk + 1] : 0;
            }
        }
}

/* The bfloat16 bits of 16 floats rounded to nearest even, as c10::BFloat16 rounds (NaN → 0x7FC0), in integer
   arithmetic. */
__attribute__((target(OV_TARGET)))
static inline __m256i round_bf16_bits(__m512 value) {
    __m512i bits = _mm512_castps_si512(value);
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
    __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(bits, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF))), 16);
    rounded = _mm512_mask_mov_epi32(rounded, _mm512_cmp_ps_mask(value, value, _CMP_UNORD_Q), _mm512_set1_epi32(0x7FC0));
    return _mm512_cvtepi32_epi16(rounded);
}

/* The same bits by the CPU's conversion (vcvtneps2bf16, one instruction against eight): it rounds to nearest even like
   c10 but flushes denormal inputs to zero and keeps NaN payloads, so vectors holding either (fpclass: quiet NaN 0x01,
   denormal 0x20, signalling NaN 0x80) take the integer path. Checked against it on all 2^32 floats. */
__attribute__((target(OV_TARGET)))
static inline __m256i round_bf16(__m512 value) {
    if (__builtin_expect(_mm512_fpclass_ps_mask(value, 0xA1) != 0, 0)) return round_bf16_bits(value);
    return (__m256i)_mm512_cvtneps_pbh(value);
}

/* Rounds 16 floats and stores the first `columns` of them. */
__attribute__((target(OV_TARGET)))
static inline void store_bf16(uint16_t *to, __m512 value, int columns) {
    if (columns > 0) _mm256_mask_storeu_epi16(to, first(columns), round_bf16(value));
}

/* The first `count` (up to 16) bfloat16 values at `from` as floats (exact), zeros after them. */
__attribute__((target(OV_TARGET)))
static inline __m512 widen(const uint16_t *from, int count) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(first(count), from)), 16));
}

/* The sums of a rows × 32 tile: x's rows `lda` apart (k even) times one packed panel, added to c0/c1 (columns 0-15 and
   16-31, holding the starting values). Always inlined with a constant row count, so the accumulators stay in registers. */
__attribute__((target(OV_TARGET), always_inline))
static inline void accumulate(const uint16_t *x, int64_t lda, int k, const uint16_t *panel, __m512 *c0, __m512 *c1, int rows) {
    for (int kk = 0; kk < k / 2; kk++) {
        __m512bh w0 = (__m512bh)_mm512_loadu_si512(panel + kk * 64);
        __m512bh w1 = (__m512bh)_mm512_loadu_si512(panel + kk * 64 + 32);
        for (int i = 0; i < rows; i++) {
            int32_t pair;
            memcpy(&pair, x + i * lda + 2 * kk, 4);
            __m512bh a = (__m512bh)_mm512_set1_epi32(pair);
            c0[i] = _mm512_dpbf16_ps(c0[i], a, w0);
            c1[i] = _mm512_dpbf16_ps(c1[i], a, w1);
        }
    }
}

/* A linear layer's rows × 32 tile of y: bias, sums, GELU if asked, residual, one rounding; `columns` of the 32 are
   stored. */
__attribute__((target(OV_TARGET), always_inline))
static inline void tile(const uint16_t *x, int k, const uint16_t *panel, const float *bias, int activate,
                        const uint16_t *residual, uint16_t *y, int n, int columns, int rows) {
    __m512 c0[MR], c1[MR];
    __m512 b0 = bias ? _mm512_maskz_loadu_ps(first(columns), bias) : _mm512_setzero_ps();
    __m512 b1 = bias ? _mm512_maskz_loadu_ps(first(columns - 16), bias + 16) : _mm512_setzero_ps();
    for (int i = 0; i < rows; i++) { c0[i] = b0; c1[i] = b1; }
    accumulate(x, k, k, panel, c0, c1, rows);
    if (activate) {
        gelu_lockstep(c0, rows);
        gelu_lockstep(c1, rows);
    }
    if (residual)
        for (int i = 0; i < rows; i++) {
            c0[i] = _mm512_add_ps(c0[i], widen(residual + (int64_t)i * n, columns));
            c1[i] = _mm512_add_ps(c1[i], widen(residual + (int64_t)i * n + 16, columns - 16));
        }
    for (int i = 0; i < rows; i++) {
        store_bf16(y + (int64_t)i * n, c0[i], columns);
        store_bf16(y + (int64_t)i * n + 16, c1[i], columns - 16);
    }
}

/* An attention product's rows × 32 float32 tile (x's rows `lda` apart), stored whole into c (rows `ldc` apart). */
__attribute__((target(OV_TARGET), always_inline))
static inline void tile_f32(const uint16_t *x, int64_t lda, int k, const uint16_t *panel, float *c, int ldc, int rows) {
    __m512 c0[MR], c1[MR];
    for (int i = 0; i < rows; i++) { c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps(); }
    accumulate(x, lda, k, panel, c0, c1, rows);
    for (int i = 0; i < rows; i++) { _mm512_storeu_ps(c + i * ldc, c0[i]); _mm512_storeu_ps(c + i * ldc + 16, c1[i]); }
}

__attribute__((target(OV_TARGET)))
static void tile_rows(const uint16_t *x, int k, const uint16_t *panel, const float *bias, int activate,
                      const uint16_t *residual, uint16_t *y, int n, int columns, int rows) {
#define OV_TILE(r) tile(x, k, panel, bias, activate, residual, y, n, columns, r)
    OV_BY_ROWS(OV_TILE)
#undef OV_TILE
}

__attribute__((target(OV_TARGET)))
static void tile_f32_rows(const uint16_t *x, int64_t lda, int k, const uint16_t *panel, float *c, int ldc, int rows) {
#define OV_TILE(r) tile_f32(x, lda, k, panel, c, ldc, r)
    OV_BY_ROWS(OV_TILE)
#undef OV_TILE
}

/* y [m, n] = x [m, k] · Wᵀ (+ bias, float32 [n] or null), then exact GELU if `activate`, (+ residual [m, n] or null:
   the block's skip connection), all in float32 before the one rounding; row-major; k even; ov_bf16_init() must have
   returned 2. */
void ov_bf16_linear(const uint16_t *x, int64_t m, int k, const uint16_t *packed, int n, const float *bias, int activate,
                    const uint16_t *residual, uint16_t *y, int threads) {
    struct job j = {x, packed, bias, activate, residual, y, m, n, k};
    gomp_parallel(run_claimed, &j, threads > 0 ? (unsigned)threads : 0u, 0);
}

/* ---- Attention: softmax(q·kᵀ·scale)·v per head, as libtorch's CPU flash attention computes it for bfloat16 (scores
   and softmax in float32, the unnormalised probabilities rounded to bfloat16 for the product with v, float32 sums,
   the result divided by the float32 sum and rounded once), read straight from the in_proj output [B, L, 3, H, hd] and
   written with the heads already merged, [B, L, H·hd]: no transposes or copies around it. */

/* One head's keys as a weight (panels of 32 keys, the pair (d, d+1) of each key side by side, zeros past the last key)
   and its values (panels of 32 dimensions, the pair (key, key+1) of each dimension side by side). Transposes and word
   permutes instead of element loops: packing was a third of the attention time at ViT-Tiny's sizes. */
__attribute__((target(OV_TARGET)))
static void pack_head(const uint16_t *k, const uint16_t *v, int64_t row, int L, int hd, uint16_t *keys, uint16_t *values) {
    int key_panels = (L + NR - 1) / NR, Leven = (L + 1) & ~1, value_panels = (hd + NR - 1) / NR, words = hd / 2;
    for (int p = 0; p < key_panels; p++)
        for (int half = 0; half < 2; half++) {
            int key0 = p * NR + half * 16, rows = L - key0 < 16 ? (L - key0 > 0 ? L - key0 : 0) : 16;
            const int32_t *from = (const int32_t *)(k + (int64_t)key0 * row);
            int32_t *to = (int32_t *)(keys + (int64_t)p * words * NR * 2) + half * 16;
            for (int w0 = 0; w0 < words; w0 += 16)
                transpose_words(from + w0, row / 2, rows, words - w0 < 16 ? words - w0 : 16, to + (int64_t)w0 * NR, NR);
        }
    __m512i low = _mm512_set_epi16(47, 15, 46, 14, 45, 13, 44, 12, 43, 11, 42, 10, 41, 9, 40, 8, 39, 7, 38, 6, 37, 5, 36, 4,
                                   35, 3, 34, 2, 33, 1, 32, 0);
    __m512i high = _mm512_add_epi16(low, _mm512_set1_epi16(16));
    for (int p = 0; p < value_panels; p++) {
        __mmask32 dims = hd - p * NR >= 32 ? 0xFFFFFFFFu : (__mmask32)((1u << (hd - p * NR)) - 1);
        for (int kk = 0; kk < Leven / 2; kk++) {
            const uint16_t *even = v + (int64_t)(2 * kk) * row + p * NR;
            __m512i a = _mm512_maskz_loadu_epi16(dims, even);
            __m512i b = 2 * kk + 1 < L ? _mm512_maskz_loadu_epi16(dims, even + row) : _mm512_setzero_si512();
            uint16_t *to = values + ((int64_t)p * (Leven / 2) + kk) * NR * 2;
            _mm512_storeu_si512(to, _mm512_permutex2var_epi16(a, low, b));
            _mm512_storeu_si512(to + 32, _mm512_permutex2var_epi16(a, high, b));
        }
    }
}

/* The softmax numerators of `count` rows of scores (`Lpad` apart; L valid): e^(s·scale − max), rounded to bfloat16
   into `probabilities` (rows `Leven` apart, zero past L), their float32 sums into `sums`. The rows go in lockstep, each
   step on all of them before the next, so that one row's chains of dependent maxima, sums and reductions overlap the
   others' (ViT-Ti's softmax on one thread: 69k → 48-55k time-stamp ticks; four vectors of one row in lockstep instead
   were slower than one at a time); each row's arithmetic, and so its bits, is that of a row alone. Always inlined with
   a constant count (at most 4). */
__attribute__((target(OV_TARGET), always_inline))
static inline void softmax_rows(const float *scores, int Lpad, int L, int Leven, __m512 scale, uint16_t *probabilities, float *sums,
                                int count) {
    __m512 peak[4], total[4];
    scaled_maxima(scores, Lpad, L, scale, peak, count);
    for (int i = 0; i < count; i++) total[i] = _mm512_setzero_ps();
    for (int t = 0; t < Leven; t += 16) {
        __m512 e[4];
        for (int i = 0; i < count; i++) e[i] = _mm512_fmsub_ps(_mm512_loadu_ps(scores + (int64_t)i * Lpad + t), scale, peak[i]);
        exp_nonpositive_lockstep(e, count);
        for (int i = 0; i < count; i++) {
            e[i] = _mm512_maskz_mov_ps(first(L - t), e[i]);
            total[i] = _mm512_add_ps(total[i], e[i]);
            _mm256_mask_storeu_epi16(probabilities + (int64_t)i * Leven + t, first(Leven - t), round_bf16(e[i]));
        }
    }
    for (int i = 0; i < count; i++) sums[i] = _mm512_reduce_add_ps(total[i]);
}

/* Queries [q0, q1) of one head of one image, its keys and values packed: per 8 queries, scores, softmax,
   probabilities · values. Buffers are the caller's. */
__attribute__((target(OV_TARGET)))
static void attention_blocks(const struct attention_job *j, int64_t head, int q0, int q1, const uint16_t *keys,
                             const uint16_t *values, float *scores, uint16_t *probabilities, float *sums, float *outputs) {
    int L = j->tokens, hd = j->head_width, H = j->heads;
    int64_t D = (int64_t)H * hd, row = 3 * D;
    int b = (int)(head / H), h = (int)(head % H);
    int key_panels = (L + NR - 1) / NR, Lpad = key_panels * NR, Leven = (L + 1) & ~1;
    int value_panels = (hd + NR - 1) / NR, hdpad = value_panels * NR;
    const uint16_t *q = head_queries(j, head);
    __m512 scale = _mm512_set1_ps(j->scale);
    for (int i0 = q0; i0 < q1; i0 += MR) {
        int rows = q1 - i0 < MR ? q1 - i0 : MR;
        for (int p = 0; p < key_panels; p++)
            tile_f32_rows(q + i0 * row, row, hd, keys + (int64_t)p * (hd / 2) * NR * 2, scores + p * NR, Lpad, rows);
#define OV_SOFTMAX(i, count) softmax_rows(scores + (i) * Lpad, Lpad, L, Leven, scale, probabilities + (i) * Leven, sums + (i), count)
        OV_IN_FOURS(0, rows, OV_SOFTMAX);
#undef OV_SOFTMAX
        for (int p = 0; p < value_panels; p++)
            tile_f32_rows(probabilities, Leven, Leven, values + (int64_t)p * (Leven / 2) * NR * 2, outputs + p * NR, hdpad, rows);
        for (int i = 0; i < rows; i++) {
            __m512 inverse = _mm512_set1_ps(1.0f / sums[i]);
            uint16_t *to = j->out + ((int64_t)b * L + i0 + i) * D + (int64_t)h * hd;
            for (int d = 0; d < hd; d += 16)
                _mm256_mask_storeu_epi16(to + d, first(hd - d), round_bf16(_mm512_mul_ps(_mm512_loadu_ps(outputs + (int64_t)i * hdpad + d), inverse)));
        }
    }
}

/* The calling pool thread's attention buffers, a few hundred KB at ViT sizes, in its scratch memory (ov_thread_scratch); 0
   when out of memory. */
static int attention_buffers(const struct attention_job *j, struct attention_buffers *buffers) {
    int L = j->tokens, hd = j->head_width;
    int key_panels = (L + NR - 1) / NR, Lpad = key_panels * NR, Leven = (L + 1) & ~1, hdpad = (hd + NR - 1) / NR * NR;
    size_t bytes = (size_t)key_panels * NR * hd * 2 + (size_t)hdpad * Leven * 2 + (size_t)MR * Lpad * 4 + (size_t)MR * (Leven + 32) * 2
                   + MR * 4 + (size_t)MR * hdpad * 4 + 6 * 64;
    char *at = ov_thread_scratch(bytes);
    if (!at) return 0; /* out of memory: nothing sensible is left to do here */
#define OV_TAKE(type, name, count) buffers->name = (type *)at; at += ((size_t)(count) * sizeof(type) + 63) / 64 * 64;
    OV_TAKE(uint16_t, keys, (size_t)key_panels * NR * hd)
    OV_TAKE(uint16_t, values, (size_t)hdpad * Leven)
    OV_TAKE(float, scores, (size_t)MR * Lpad)
    OV_TAKE(uint16_t, probabilities, (size_t)MR * (Leven + 32))
    OV_TAKE(float, sums, MR)
    OV_TAKE(float, outputs, (size_t)MR * hdpad)
#undef OV_TAKE
    return 1;
}

/* Queries [q0, q1) of one head, its keys and values packed first. */
static void attention_head(const struct attention_job *j, int64_t head, int q0, int q1, const struct attention_buffers *a) {
    int64_t D = (int64_t)j->heads * j->head_width;
    const uint16_t *q = head_queries(j, head);
    pack_head(q + D, q + 2 * D, 3 * D, j->tokens, j->head_width, a->keys, a->values);
    attention_blocks(j, head, q0, q1, a->keys, a->values, a->scores, a->probabilities, a->sums, a->outputs);
}

/* out [B, L, H·hd] = attention of qkv [B, L, 3, H, hd] (all bfloat16, contiguous; hd even), no mask. */
void ov_bf16_attention(const uint16_t *qkv, int64_t batch, int tokens, int heads, int head_width, float scale, uint16_t *out,
                       int threads) {
    struct attention_job j = {qkv, out, batch * heads, tokens, heads, head_width, scale};
    gomp_parallel(attention_share, &j, threads > 0 ? (unsigned)threads : 0u, 0);
}

/* ---- LayerNorm of bfloat16 rows in float32 (mean, then the mean square of the deviations; (x − mean)·rstd·γ + β),
   rounded once, as libtorch computes it for bfloat16 but without its conversions through float32 tensors. Rows go in
   groups of four in lockstep, each step on all four before the next, so the four rows' chains of dependent sums
   overlap (one row at a time is a chain of about 30 dependent additions and reductions at ViT-Ti's width); each row's
   arithmetic, and so its bits, is that of a row alone. A row, γ and β are widened to float32 once (on the stack). */
__attribute__((target(OV_TARGET), always_inline))
static inline void norm_group(const struct norm_job *j, int64_t r, const float *gamma, const float *beta, float *rows, int count) {
    int w = j->w, stride = (w + 15) / 16 * 16;
    __m512 total[4], centre[4], squares[4], rstd[4];
    for (int i = 0; i < count; i++) total[i] = _mm512_setzero_ps();
    for (int c = 0; c < w; c += 16)
        for (int i = 0; i < count; i++) {
            __m512 v = widen(j->x + (r + i) * w + c, w - c);
            _mm512_storeu_ps(rows + i * stride + c, v);
            total[i] = _mm512_add_ps(total[i], v);
        }
    for (int i = 0; i < count; i++) {
        centre[i] = _mm512_set1_ps(_mm512_reduce_add_ps(total[i]) / w);
        squares[i] = _mm512_setzero_ps();
    }
    for (int c = 0; c < w; c += 16)
        for (int i = 0; i < count; i++) {
            __m512 d = _mm512_maskz_sub_ps(first(w - c), _mm512_loadu_ps(rows + i * stride + c), centre[i]);
            squares[i] = _mm512_fmadd_ps(d, d, squares[i]);
        }
    for (int i = 0; i < count; i++) rstd[i] = _mm512_set1_ps(1.0f / sqrtf(_mm512_reduce_add_ps(squares[i]) / w + j->eps));
    for (int c = 0; c < w; c += 16)
        for (int i = 0; i < count; i++) {
            __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(rows + i * stride + c), centre[i]), rstd[i]);
            v = j->gamma ? _mm512_mul_ps(v, _mm512_loadu_ps(gamma + c)) : v;
            v = j->beta ? _mm512_add_ps(v, _mm512_loadu_ps(beta + c)) : v;
            _mm256_mask_storeu_epi16(j->y + (r + i) * w + c, first(w - c), round_bf16(v));
        }
}

__attribute__((target(OV_TARGET)))
static void norm_rows(const struct norm_job *j, int64_t r0, int64_t r1) {
    int w = j->w, stride = (w + 15) / 16 * 16;
    if (r0 >= r1) return;
    float gamma[stride], beta[stride], rows[4 * stride];
    for (int c = 0; c < w; c += 16) {
        if (j->gamma) _mm512_storeu_ps(gamma + c, widen(j->gamma + c, w - c));
        if (j->beta) _mm512_storeu_ps(beta + c, widen(j->beta + c, w - c));
    }
#define OV_NORM(r, count) norm_group(j, r, gamma, beta, rows, count)
    OV_IN_FOURS(r0, r1, OV_NORM);
#undef OV_NORM
}

/* y [m, w] = LayerNorm(x [m, w]) with γ and β ([w] or null), all bfloat16. */
void ov_bf16_layer_norm(const uint16_t *x, int64_t m, int w, const uint16_t *gamma, const uint16_t *beta, float eps,
                        uint16_t *y, int threads) {
    struct norm_job j = {x, gamma, beta, y, m, w, eps};
    gomp_parallel(norm_share, &j, threads > 0 ? (unsigned)threads : 0u, 0);
}

__attribute__((target(OV_TARGET)))
static void cut_run(const struct embed_job *e, int64_t at, uint16_t *to, int n) {
    if (e->rounded) {
        const float *pixels = (const float *)e->pixels + at;
        for (int i = 0; i < n; i += 16) store_bf16(to + i, _mm512_maskz_loadu_ps(first(n - i), pixels + i), n - i);
        return;
    }
    const uint16_t *pixels = (const uint16_t *)e->pixels + at;
    for (int i = 0; i < n; i += 32) {
        __mmask32 valid = n - i >= 32 ? 0xFFFFFFFFu : (__mmask32)((1u << (n - i)) - 1);
        _mm512_mask_storeu_epi16(to + i, valid, _mm512_maskz_loadu_epi16(valid, pixels + i));
    }
}

__attribute__((target(OV_TARGET)))
static void add_row(const uint16_t *a, const uint16_t *b, uint16_t *y, int w) {
    for (int c = 0; c < w; c += 16) store_bf16(y + c, _mm512_add_ps(widen(a + c, w - c), widen(b + c, w - c)), w - c);
}

/* y [B, 1 + g², W] = the tokens of images [B, C, S, S] (bfloat16, contiguous; g = S / p, C·p·p even): the class token
   [W] plus the first row of `positions` [1 + g², W], then each patch (its C·p·p values cut out into `patches`,
   [B·g², C·p·p]) times the filters (packed by ov_bf16_pack from [W, C·p·p]) plus the next row, summed in float32 and
   rounded once (a convolution and then the table's addition round twice). */
void ov_bf16_embed(const uint16_t *pixels, int64_t batch, int channels, int side, int patch, const uint16_t *packed, int width,
                   const uint16_t *class_token, const uint16_t *positions, uint16_t *patches, uint16_t *y, int threads) {
    struct embed_job e = {pixels, packed, class_token, positions, patches, y, batch, channels, side, patch, side / patch, width, 0};
    run_embed(&e, threads);
}

/* The same from float32 images, each pixel rounded to bfloat16 as it is cut out (as libtorch's cast rounds it, so the
   tokens are those of the cast images): the cast's pass over the images and its tensor are saved, 20-40 µs of a
   batch-1 ViT-Ti image. */
void ov_bf16_embed_float(const float *pixels, int64_t batch, int channels, int side, int patch, const uint16_t *packed, int width,
                         const uint16_t *class_token, const uint16_t *positions, uint16_t *patches, uint16_t *y, int threads) {
    struct embed_job e = {pixels, packed, class_token, positions, patches, y, batch, channels, side, patch, side / patch, width, 1};
    run_embed(&e, threads);
}

/* ---- Whole blocks (openvision_schedule.h's run_tower), the same kernels and roundings as the operation-by-operation
   path; what it saves is seven trips per block through the managed layer, the tensor allocations between them and all
   but one of the thread-team starts. The layers as struct block_layers with bfloat16 elements. */

/* Elements of bfloat16 scratch memory ov_bf16_tower needs for `rows` = batch × tokens. */
int64_t ov_bf16_block_scratch(int64_t rows, int width, int hidden) { return block_scratch(rows, width, hidden); }

/* y [B, L, W] = `count` blocks (weights packed by ov_bf16_pack) applied in turn to x [B, L, W] (bfloat16, contiguous;
   width, hidden and width / heads even) in one parallel region. y and spare [B, L, W] must not overlap x or each other;
   spare may be null for one block. */
void ov_bf16_tower(const uint16_t *x, int64_t batch, int tokens, const struct block_layers *layers, int count, uint16_t *scratch, uint16_t *y,
                   uint16_t *spare, int threads) {
    run_tower(x, batch, tokens, layers, count, scratch, y, spare, threads);
}

/* ---- A vision tower's head: the pooled token, its LayerNorm and the projection, for open_clip's ln_post after the pool.
   On the calling thread: at ViT-Ti batch 1 it is 38 k additions and 37 k products, where libtorch's bfloat16 mean
   took 90-126 µs right after the tower (35 µs in a loop of its own: the tower's threads leave the tokens in two cores'
   caches) of a 5.4 ms image, and each of the layer norm and the product 15-20 µs. */

/* pooled [w] = the mean of `rows` rows of x (w apart): summed in float32 row after row, divided by the row count and
   rounded once, as libtorch's mean computes it for bfloat16 (float32 sum, division, one rounding; its summation order
   differs, within float32 round-off). Columns in groups of eight vectors held in registers. */
__attribute__((target(OV_TARGET)))
static void mean_rows(const uint16_t *x, int64_t rows, int w, uint16_t *pooled) {
    __m512 count = _mm512_set1_ps((float)rows);
    for (int c0 = 0; c0 < w; c0 += 128) {
        __m512 sum[8];
        int vectors = (w - c0 + 15) / 16 < 8 ? (w - c0 + 15) / 16 : 8;
        for (int v = 0; v < 8; v++) sum[v] = _mm512_setzero_ps();
        for (int64_t r = 0; r < rows; r++) {
            if (r + 8 < rows)
                for (int v = 0; v < vectors; v += 2) __builtin_prefetch(x + (r + 8) * w + c0 + 16 * v, 0, 3);
            for (int v = 0; v < vectors; v++) {
                int c = c0 + 16 * v;
                sum[v] = _mm512_add_ps(sum[v], widen(x + r * w + c, w - c));
            }
        }
        for (int v = 0; v < vectors; v++) store_bf16(pooled + c0 + 16 * v, _mm512_div_ps(sum[v], count), w - c0 - 16 * v);
    }
}

/* y [B, n] = LayerNorm(pool(x [B, L, w])) · projection, all bfloat16: pool the mean of tokens 1 … L−1 (`average`, L ≥
   2) or token 0; the layer norm as ov_bf16_layer_norm (γ, β [w] or null); the projection [w, n] packed by
   ov_bf16_pack from its transpose, summed in float32 and rounded once. `scratch` holds 2·B·w elements. */
void ov_bf16_head(const uint16_t *x, int64_t batch, int tokens, int w, int average, const uint16_t *gamma, const uint16_t *beta,
                  float eps, const uint16_t *packed, int n, uint16_t *scratch, uint16_t *y) {
    uint16_t *pooled = scratch, *normed = scratch + batch * w;
    for (int64_t image = 0; image < batch; image++) {
        const uint16_t *first = x + image * tokens * w;
        if (average) mean_rows(first + w, tokens - 1, w, pooled + image * w);
        else memcpy(pooled + image * w, first, (size_t)w * sizeof(uint16_t));
    }
    struct norm_job norm = {pooled, gamma, beta, normed, batch, w, eps};
    norm_rows(&norm, 0, batch);
    struct job projection = {normed, packed, 0, 0, 0, y, batch, n, w};
    run_range(&projection, 0, batch, 0, panels(&projection));
}

/* The bfloat16 peak: `rounds` rounds of 16 independent vdpbf16ps chains on the calling thread (enough in flight to
   cover the instruction's latency on two pipes); returns the FLOPs done (64 per instruction). */
static volatile float peak_sink;
__attribute__((target("avx512f,avx512bf16")))
int64_t ov_bf16_peak_loop(int64_t rounds) {
#define OV_16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define OV_DECLARE(i) __m512 c##i = _mm512_set1_ps((float)i);
#define OV_STEP(i) c##i = _mm512_dpbf16_ps(c##i, a, b);
#define OV_SUM(i) + _mm512_reduce_add_ps(c##i)
    OV_16(OV_DECLARE)
    __m512bh a = (__m512bh)_mm512_set1_epi32(0x3F803F80), b = (__m512bh)_mm512_set1_epi32(0x00010001);
    for (int64_t r = 0; r < rounds; r++) { OV_16(OV_STEP) }
    peak_sink = 0 OV_16(OV_SUM);
    return rounds * 16 * 64;
}
