/* Shared by the AVX-512 kernels of bfloat16 and float32 models (openvision_bf16.c, openvision_f32.c): masks, e^x for
   softmax and the exact (erf) GELU, all in float32; the transposes that pack attention's keys. */
#ifndef OPENVISION_SIMD_H
#define OPENVISION_SIMD_H
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include "openvision_erf.h"

/* The mask of the first `count` of 16 lanes. */
static inline __mmask16 first(int count) { return count >= 16 ? 0xFFFF : count <= 0 ? 0 : (__mmask16)((1u << count) - 1); }

/* e^x for x ≤ 0 (scores minus their maximum), `count` vectors in place: x = n·ln2 + r, |r| ≤ ln2/2, e^r by a degree-6
   Taylor polynomial (relative error below 2e-7 there), scaled by 2^n; underflows to 0. Each step runs on all the
   vectors before the next, so that one vector's chain of dependent operations overlaps the others'. Always inlined
   with a constant count (at most 8). */
__attribute__((target("avx512f"), always_inline))
static inline void exp_nonpositive_lockstep(__m512 *x, int count) {
    static const float e[7] = {1.0f, 1.0f, 0.5f, 1.0f / 6, 1.0f / 24, 1.0f / 120, 1.0f / 720};
    __m512 n[8], r[8], p[8];
    for (int i = 0; i < count; i++) {
        __m512 y = _mm512_max_ps(x[i], _mm512_set1_ps(-104.0f));
        n[i] = _mm512_roundscale_ps(_mm512_mul_ps(y, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        r[i] = _mm512_fnmadd_ps(n[i], _mm512_set1_ps(0.693145751953125f), y);   /* ln2 in two parts: exact n·hi */
        r[i] = _mm512_fnmadd_ps(n[i], _mm512_set1_ps(1.42860682030941723212e-6f), r[i]);
        p[i] = _mm512_set1_ps(e[6]);
    }
    for (int k = 5; k >= 0; k--)
        for (int i = 0; i < count; i++) p[i] = _mm512_fmadd_ps(p[i], r[i], _mm512_set1_ps(e[k]));
    for (int i = 0; i < count; i++) x[i] = _mm512_scalef_ps(p[i], n[i]);
}

/* Exact (erf) GELU of `count` (≤ 4) vectors in place, h + h·erf(z), h = x/2, z = x/√2, erf by openvision_erf.h's
   rational fit: about 20 operations and a division per vector, where an erfc fit needs an exponential as well
   (docs/speed.md, "A cheaper exact GELU", compares the two). Four vectors' numerators and denominators fill half the
   registers; eight would spill them (1.4 times the time per output). */
__attribute__((target("avx512f"), always_inline))
static inline void gelu_group(__m512 *v, int count) { OV_GELU_GROUP(512, v, count); }

/* The exact GELU of `count` vectors in place, in groups of four (gelu_group). Always inlined with a constant count. */
__attribute__((target("avx512f"), always_inline))
static inline void gelu_lockstep(__m512 *v, int count) {
    for (int g = 0; g < count; g += 4) gelu_group(v + g, count - g < 4 ? count - g : 4);
}

/* The maxima of `count` rows of scores (`Lpad` apart, L valid) times `scale`, each broadcast to a vector: the softmax's
   first pass, rows in lockstep (see softmax_rows in the kernel files). Always inlined with a constant count (≤ 4). */
__attribute__((target("avx512f"), always_inline))
static inline void scaled_maxima(const float *scores, int Lpad, int L, __m512 scale, __m512 *peak, int count) {
    __m512 top[4];
    for (int i = 0; i < count; i++) top[i] = _mm512_set1_ps(-INFINITY);
    for (int t = 0; t < L; t += 16)
        for (int i = 0; i < count; i++)
            top[i] = _mm512_max_ps(top[i], _mm512_mask_mul_ps(_mm512_set1_ps(-INFINITY), first(L - t), _mm512_loadu_ps(scores + (int64_t)i * Lpad + t), scale));
    for (int i = 0; i < count; i++) peak[i] = _mm512_set1_ps(_mm512_reduce_max_ps(top[i]));
}

/* Columns [0, cols) of `rows` rows of 32-bit words (`from_stride` words apart; rows, cols ≤ 16) written as rows of 16
   words `to_stride` apart, zeros past the last source row: a 16 × 16 transpose in four rounds of two-source shuffles.
   Packing attention's keys this way took a fraction of the time of 16-lane gathers, which ran at about 50 cycles each
   on Zen 5 and were three quarters of the packing. */
__attribute__((target("avx512f")))
static inline void transpose_words(const int32_t *from, int64_t from_stride, int rows, int cols, int32_t *to, int64_t to_stride) {
    __m512i r[16], t[16];
    for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_maskz_loadu_epi32(first(cols), from + i * from_stride) : _mm512_setzero_si512();
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int h = 0; h < 16; h += 8)
        for (int i = 0; i < 4; i++) {
            t[h + i] = _mm512_shuffle_i32x4(r[h + i], r[h + i + 4], 0x88);
            t[h + i + 4] = _mm512_shuffle_i32x4(r[h + i], r[h + i + 4], 0xDD);
        }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0xDD);
    }
    for (int c = 0; c < cols; c++) _mm512_storeu_si512(to + c * to_stride, r[c]);
}
#endif
