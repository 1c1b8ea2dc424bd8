/* Runs managed work on libtorch's own OpenMP threads (its GOMP_parallel, found through libtorch_cpu.so), for
   OpenVision/Native/TorchThreadTeam.cs. Image decoding between model calls uses it: on a pool of its own the decoder
   competes for the cores with libtorch's worker threads, which spin for milliseconds after each parallel region
   before they sleep; on libtorch's threads the spinning worker does the work instead. Nothing is printed. */
#define _GNU_SOURCE
#include "libtorch_openmp.h"

typedef void (*gomp_parallel_t)(void (*)(void *), void *, unsigned, unsigned);
static gomp_parallel_t gomp_parallel;

/* 1: ready; 0: libtorch or its OpenMP runtime was not found. Call after libtorch is loaded. */
int ov_pool_init(void) {
    void *torch = ov_libtorch_handle();
    if (!torch) return 0;
    gomp_parallel = (gomp_parallel_t)dlsym(torch, "GOMP_parallel");
    return gomp_parallel ? 1 : 0;
}

/* Calls work(state) on each thread of the calling thread's team (libtorch's thread count), the caller included, and
   returns when all have returned. */
void ov_pool_run(void (*work)(void *), void *state) { gomp_parallel(work, state, 0, 0); }
