/* Checks the kernels' exact GELU (openvision_erf.h's rational erf, as gelu_lockstep and gelu8_lockstep apply it) on
   every normal float32 x in [−LIMIT, LIMIT] against x·Φ(x) in long double: the largest |error| / |x| and where, the largest
   error in units of the last place for x > 0, the same for libtorch's formula with glibc's erff, and whether the
   AVX-512 and AVX2 versions give the same bits (where the CPU has both). The Float32GeluTests bound comes from here.

   Build: cc -O2 -o gelu_accuracy gelu_accuracy.c -lm
   Run:   ./gelu_accuracy [LIMIT]                      (default 12: beyond, both formulas give x or the sign of 0) */
#define _GNU_SOURCE
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../src/OpenVision/Native/openvision_simd.h"
#include "../../src/OpenVision/Native/openvision_simd_avx2.h"

#define BATCH (16 * 8)

struct worst {
    double relative, at, ulps, ulps_at;
};

/* Subnormal inputs are left out: there halving x alone can lose half of it, in either formula. */
static void account(struct worst *w, float x, float y) {
    if (fabsf(x) < FLT_MIN) return;
    long double exact = 0.5L * x * erfcl(-(long double)x / sqrtl(2.0L)), error = fabsl((long double)y - exact);
    double relative = (double)(error / fabsl((long double)x));
    if (relative > w->relative) { w->relative = relative; w->at = x; }
    if (x > 0) {
        float rounded = (float)exact;
        double ulps = (double)(error / (long double)(nextafterf(rounded, INFINITY) - rounded));
        if (ulps > w->ulps) { w->ulps = ulps; w->ulps_at = x; }
    }
}

__attribute__((target("avx512f")))
static void gelu_avx512(float *v) {
    __m512 r[8];
    for (int i = 0; i < 8; i++) r[i] = _mm512_loadu_ps(v + 16 * i);
    gelu_lockstep(r, 8);
    for (int i = 0; i < 8; i++) _mm512_storeu_ps(v + 16 * i, r[i]);
}

OV_AVX2 static void gelu_avx2(float *v) {
    for (int part = 0; part < 4; part++) {
        __m256 r[4];
        for (int i = 0; i < 4; i++) r[i] = _mm256_loadu_ps(v + 32 * part + 8 * i);
        gelu8_lockstep(r, 4);
        for (int i = 0; i < 4; i++) _mm256_storeu_ps(v + 32 * part + 8 * i, r[i]);
    }
}

int main(int argc, char **argv) {
    float limit = argc > 1 ? strtof(argv[1], 0) : 12.0f;
    int avx512 = __builtin_cpu_supports("avx512f"), avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (!avx2) { fprintf(stderr, "this CPU has no AVX2 and FMA\n"); return 1; }
    struct worst kernel = {0}, libtorch = {0};
    long long count = 0, differing = 0;
    float x[BATCH], wide[BATCH], narrow[BATCH];
    int filled = 0;
    for (float next = -limit;; next = nextafterf(next, INFINITY)) {
        int last = next > limit;
        if (!last && next != 0) x[filled++] = next;
        if (filled < BATCH && !last) continue;
        for (int i = filled; i < BATCH; i++) x[i] = 1;
        memcpy(narrow, x, sizeof x);
        gelu_avx2(narrow);
        if (avx512) {
            memcpy(wide, x, sizeof x);
            gelu_avx512(wide);
            for (int i = 0; i < filled; i++) differing += memcmp(&wide[i], &narrow[i], 4) != 0;
        }
        for (int i = 0; i < filled; i++) {
            account(&kernel, x[i], narrow[i]);
            account(&libtorch, x[i], x[i] * 0.5f * (1.0f + erff(x[i] * 0.70710678118654752f)));
        }
        count += filled;
        filled = 0;
        if (last) break;
    }
    printf("%lld float32 inputs in [%g, %g]\n", count, -limit, limit);
    printf("kernels' GELU:      max |error| / |x| %.3e at x = %.9g; x > 0: max %.2f ulp at x = %.9g\n",
           kernel.relative, kernel.at, kernel.ulps, kernel.ulps_at);
    printf("libtorch's formula: max |error| / |x| %.3e at x = %.9g; x > 0: max %.2f ulp at x = %.9g\n",
           libtorch.relative, libtorch.at, libtorch.ulps, libtorch.ulps_at);
    if (avx512) printf("AVX-512 and AVX2 versions: %lld inputs with different bits\n", differing);
    else printf("AVX-512 and AVX2 versions: not compared (no AVX-512 here)\n");
    return differing != 0;
}
