/* erf(z) ≈ z·P(z²)/Q(z²) for |z| ≤ OV_ERF_LIMIT, the exact GELU's error function in every kernel library
   (openvision_simd.h, openvision_simd_avx2.h). A rational fit of degree 5 over 5 in z², made for these kernels by
   iteratively reweighted least squares towards the minimax fit, in long double, against erfl: absolute error 1.6e-8 on
   [0, 3.92]; beyond, erf rounds to ±1 in float32, so z is clamped there. Every coefficient is positive, so Horner's rule
   in float32 only adds rounding. The GELU h + h·erf(z), h = x/2, z = x/√2 (libtorch's formula) evaluated this way in
   float32 with fused multiply-adds and a division is within 2.2e-7·|x| of x·Φ(x) for every float32 x in [−12, 12]
   (libtorch's with its erf: 1.1e-7·|x|); docs/speed.md, "A cheaper exact GELU", has the fit and the check. */
#ifndef OPENVISION_ERF_H
#define OPENVISION_ERF_H

#define OV_ERF_LIMIT 3.92f

static const float ov_erf_numerator[6] = {1.12837902e+00f, 1.92763433e-01f, 5.30603799e-02f,
                                          3.86829516e-03f, 2.87477807e-04f, 2.03472887e-06f};
static const float ov_erf_denominator[6] = {1.0f, 5.04163811e-01f, 1.15084344e-01f,
                                            1.51722325e-02f, 1.18810569e-03f, 3.80704945e-05f};

/* The body of the GELU of `count` (≤ 4) vectors v[] of BITS-bit floats (512 or 256) in place, h + h·erf(z): one
   definition for both instruction sets, so that they run the same operations in the same order (the same bits). Each
   step runs on all the vectors before the next, so the CPU always has independent work. */
#define OV_GELU_GROUP(BITS, v, count)                                                                                  \
    do {                                                                                                               \
        __m##BITS z_[4], u_[4], a_[4], b_[4];                                                                          \
        for (int i_ = 0; i_ < (count); i_++) {                                                                         \
            z_[i_] = _mm##BITS##_mul_ps((v)[i_], _mm##BITS##_set1_ps(0.70710678118654752f));                           \
            z_[i_] = _mm##BITS##_min_ps(_mm##BITS##_max_ps(z_[i_], _mm##BITS##_set1_ps(-OV_ERF_LIMIT)),                \
                                        _mm##BITS##_set1_ps(OV_ERF_LIMIT));                                            \
            u_[i_] = _mm##BITS##_mul_ps(z_[i_], z_[i_]);                                                               \
            a_[i_] = _mm##BITS##_set1_ps(ov_erf_numerator[5]);                                                         \
            b_[i_] = _mm##BITS##_set1_ps(ov_erf_denominator[5]);                                                       \
        }                                                                                                              \
        for (int k_ = 4; k_ >= 0; k_--)                                                                                \
            for (int i_ = 0; i_ < (count); i_++) {                                                                     \
                a_[i_] = _mm##BITS##_fmadd_ps(a_[i_], u_[i_], _mm##BITS##_set1_ps(ov_erf_numerator[k_]));              \
                b_[i_] = _mm##BITS##_fmadd_ps(b_[i_], u_[i_], _mm##BITS##_set1_ps(ov_erf_denominator[k_]));            \
            }                                                                                                          \
        for (int i_ = 0; i_ < (count); i_++) {                                                                         \
            __m##BITS h_ = _mm##BITS##_mul_ps((v)[i_], _mm##BITS##_set1_ps(0.5f));                                     \
            (v)[i_] = _mm##BITS##_fmadd_ps(h_, _mm##BITS##_div_ps(_mm##BITS##_mul_ps(z_[i_], a_[i_]), b_[i_]), h_);    \
        }                                                                                                              \
    } while (0)

#endif
