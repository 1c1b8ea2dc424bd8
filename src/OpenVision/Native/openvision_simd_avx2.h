/* openvision_simd.h's helpers for CPUs with AVX2 and FMA but not AVX-512 (openvision_f32_avx2.c): 8-lane masks, e^x
   for softmax and the exact (erf) GELU by the same formulas in float32, horizontal sums and maxima. AVX2 has 16
   vector registers to AVX-512's 32, so the lockstep helpers take at most 4 vectors. */
#ifndef OPENVISION_SIMD_AVX2_H
#define OPENVISION_SIMD_AVX2_H
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include "openvision_erf.h"

#define OV_AVX2 __attribute__((target("avx2,fma")))
#define OV_AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) inline

/* The first `count` of 8 lanes set (none for count ≤ 0), for masked loads and stores. */
OV_AVX2_INLINE static __m256i first8(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* The first `count` floats at p (zeros past them; nothing past them is read). */
OV_AVX2_INLINE static __m256 load_first(const float *p, int count) {
    return count >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, first8(count));
}

/* The first `count` lanes of v stored at p (nothing past them is written). */
OV_AVX2_INLINE static void store_first(float *p, int count, __m256 v) {
    if (count >= 8) _mm256_storeu_ps(p, v);
    else if (count > 0) _mm256_maskstore_ps(p, first8(count), v);
}

OV_AVX2_INLINE static float sum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

OV_AVX2_INLINE static float max8(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}

/* p · 2^n for integral n in [−150, 127]: n split into two halves, each a normal power of two, so that the first
   product is exact and only the second rounds (into a subnormal where the result is one), as _mm512_scalef_ps does. */
OV_AVX2_INLINE static __m256 times_power_of_two(__m256 p, __m256 n) {
    __m256i whole = _mm256_cvtps_epi32(n), half = _mm256_srai_epi32(whole, 1), rest = _mm256_sub_epi32(whole, half);
    __m256 a = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, _mm256_set1_epi32(127)), 23));
    __m256 b = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(rest, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, a), b);
}

/* e^x for x ≤ 0, `count` (≤ 4) vectors in place, in lockstep: openvision_simd.h's exp_nonpositive_lockstep. */
OV_AVX2_INLINE static void exp8_nonpositive_lockstep(__m256 *x, int count) {
    static const float e[7] = {1.0f, 1.0f, 0.5f, 1.0f / 6, 1.0f / 24, 1.0f / 120, 1.0f / 720};
    __m256 n[4], r[4], p[4];
    for (int i = 0; i < count; i++) {
        __m256 y = _mm256_max_ps(x[i], _mm256_set1_ps(-104.0f));
        n[i] = _mm256_round_ps(_mm256_mul_ps(y, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        r[i] = _mm256_fnmadd_ps(n[i], _mm256_set1_ps(0.693145751953125f), y); /* ln2 in two parts: exact n·hi */
        r[i] = _mm256_fnmadd_ps(n[i], _mm256_set1_ps(1.42860682030941723212e-6f), r[i]);
        p[i] = _mm256_set1_ps(e[6]);
    }
    for (int k = 5; k >= 0; k--)
        for (int i = 0; i < count; i++) p[i] = _mm256_fmadd_ps(p[i], r[i], _mm256_set1_ps(e[k]));
    for (int i = 0; i < count; i++) x[i] = times_power_of_two(p[i], n[i]);
}

/* Exact (erf) GELU of `count` (≤ 4) vectors in place: openvision_simd.h's gelu_group, from the same definition
   (openvision_erf.h), so the same bits as the AVX-512 kernels. */
OV_AVX2_INLINE static void gelu8_lockstep(__m256 *v, int count) { OV_GELU_GROUP(256, v, count); }

#endif
