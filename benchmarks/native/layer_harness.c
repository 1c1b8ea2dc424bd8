/* Times one linear layer of the float32 kernel library on one thread, with and without the exact GELU the blocks apply
   after c_fc, so that the cost of the activation can be read apart from the sums: the layer's GFLOP/s both ways and
   the GELU's extra time per 8 outputs. The library's source is compiled in (its static functions are what a block
   runs), the AVX2 build unless -DOV_AVX512 is given.

   Build: cc -O3 -o layer_harness layer_harness.c -lm            (-DOV_AVX512 for openvision_f32.c)
   Run:   ./layer_harness [ROWS K N [CALLS]]                        (default: 788 192 768 60, ViT-Ti's c_fc for
                                                                    four images, a thread's share of batch 8) */
#define _GNU_SOURCE
#ifdef OV_AVX512
#include "../../src/OpenVision/Native/openvision_f32.c"
#else
#include "../../src/OpenVision/Native/openvision_f32_avx2.c"
#endif
#include "harness_util.h"

/* The best of `calls` runs of the whole layer, in seconds. */
static double best_time(struct job *j, int calls) {
    double best = 1e30;
    for (int c = 0; c < calls; c++) {
        double start = now();
        run_range(j, 0, j->m, 0, panels(j));
        double took = now() - start;
        if (took < best) best = took;
    }
    return best;
}

int main(int argc, char **argv) {
    int64_t m = argc > 3 ? atoll(argv[1]) : 788;
    int k = argc > 3 ? atoi(argv[2]) : 192, n = argc > 3 ? atoi(argv[3]) : 768, calls = argc > 4 ? atoi(argv[4]) : 60;
    if (m <= 0 || k <= 0 || n <= 0 || calls <= 0) {
        fprintf(stderr, "usage: ./layer_harness [ROWS K N [CALLS]] (all positive)\n");
        return 2;
    }
#ifdef OV_AVX512
    if (!__builtin_cpu_supports("avx512f")) {
        fprintf(stderr, "this CPU has no AVX-512: build without -DOV_AVX512\n");
        return 1;
    }
#else
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        fprintf(stderr, "this CPU lacks AVX2 or FMA\n");
        return 1;
    }
#endif
    srand(1);
    float *x = random_floats(m * k, 1.0f), *w = random_floats((int64_t)n * k, 0.1f), *bias = random_floats(n, 0.1f);
    float *packed = aligned_alloc(64, (size_t)ov_f32_packed_bytes(n, k)), *y = random_floats(m * n, 0.0f);
    ov_f32_pack(w, n, k, packed);
    double flops = 2.0 * (double)m * k * n;
    printf("one thread, %lld rows x %d terms -> %d columns, best of %d calls, three rounds\n", (long long)m, k, n, calls);
    for (int round = 0; round < 3; round++) {
        struct job plain = {x, packed, bias, 0, 0, y, m, n, k, 0}, gelu = plain;
        gelu.activate = 1;
        double a = best_time(&plain, calls), b = best_time(&gelu, calls);
        printf("  sums only %8.3f ms (%5.1f GFLOP/s)   with GELU %8.3f ms (%5.1f GFLOP/s)   GELU: %5.1f %% of the layer, %.2f ns per 8 outputs\n",
               1e3 * a, 1e-9 * flops / a, 1e3 * b, 1e-9 * flops / b, 100.0 * (b - a) / b, 1e9 * (b - a) / ((double)m * n / 8));
    }
    return 0;
}
