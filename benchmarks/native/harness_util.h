/* What the native harnesses share: random inputs and a monotonic clock. */
#ifndef OV_HARNESS_UTIL_H
#define OV_HARNESS_UTIL_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* n floats uniform in [-scale/2, scale/2), 64-byte aligned; exits on a failed allocation. */
static float *random_floats(int64_t n, float scale) {
    float *p = aligned_alloc(64, ((size_t)n * 4 + 63) / 64 * 64);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (int64_t i = 0; i < n; i++) p[i] = scale * ((float)rand() / (float)RAND_MAX - 0.5f);
    return p;
}

/* Seconds on the monotonic clock. */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
#endif
