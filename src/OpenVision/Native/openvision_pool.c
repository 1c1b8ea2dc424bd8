/* Runs managed work on libtorch's own OpenMP threads (its GOMP_parallel, found through libtorch_cpu.so), for
   OpenVision/Native/TorchThreadTeam.cs. Image decoding between model calls uses it: on a pool of its own the decoder
   competes for the cores with libtorch's worker threads, which spin for milliseconds after each parallel region
   before they sleep; on libtorch's threads the spinning worker does the work instead. It also reads and sets the
   calling thread's OpenMP thread count and CPU time, for Models/ContentionAwareThreads.cs. Nothing is printed. */
#define _GNU_SOURCE
#include <time.h>
#include "libtorch_openmp.h"

typedef void (*gomp_parallel_t)(void (*)(void *), void *, unsigned, unsigned);
static gomp_parallel_t gomp_parallel;
static int (*omp_get_max_threads_fn)(void);
static void (*omp_set_num_threads_fn)(int);
static int (*mkl_get_max_threads_fn)(void);       /* absent from a libtorch built without MKL */
static int (*mkl_set_num_threads_local_fn)(int);

/* 1: ready; 0: libtorch or its OpenMP runtime was not found. Call after libtorch is loaded. */
int ov_pool_init(void) {
    void *torch = ov_libtorch_handle();
    if (!torch) return 0;
    gomp_parallel = (gomp_parallel_t)dlsym(torch, "GOMP_parallel");
    omp_get_max_threads_fn = (int (*)(void))dlsym(torch, "omp_get_max_threads");
    omp_set_num_threads_fn = (void (*)(int))dlsym(torch, "omp_set_num_threads");
    /* MKL's C names: the lower-case ones are its Fortran interface, which takes pointers. */
    mkl_get_max_threads_fn = (int (*)(void))dlsym(torch, "MKL_Get_Max_Threads");
    mkl_set_num_threads_local_fn = (int (*)(int))dlsym(torch, "MKL_Set_Num_Threads_Local");
    if (!mkl_get_max_threads_fn || !mkl_set_num_threads_local_fn) mkl_get_max_threads_fn = 0, mkl_set_num_threads_local_fn = 0;
    return gomp_parallel && omp_get_max_threads_fn && omp_set_num_threads_fn ? 1 : 0;
}

/* Calls work(state) on each thread of the calling thread's team (libtorch's thread count), the caller included, and
   returns when all have returned. */
void ov_pool_run(void (*work)(void *), void *state) { gomp_parallel(work, state, 0, 0); }

/* The number of threads the calling thread's next parallel region gets (its own OpenMP setting: libtorch's and MKL's
   regions started from this thread follow it). */
int ov_pool_max_threads(void) { return omp_get_max_threads_fn(); }

/* Sets that number for the calling thread only; other threads keep theirs. */
void ov_pool_set_threads(int count) { omp_set_num_threads_fn(count); }

/* The threads MKL's next parallel region started from the calling thread gets; -1 without MKL. Once
   torch.set_num_threads has been called anywhere in the process, libtorch also gives every thread it initializes
   afterwards an MKL count of its own, which then overrides the OpenMP setting above. */
int ov_pool_mkl_max_threads(void) { return mkl_get_max_threads_fn ? mkl_get_max_threads_fn() : -1; }

/* Sets MKL's own count for the calling thread (0: follow the OpenMP setting) and returns the previous one (0: none);
   -1 without MKL. */
int ov_pool_set_mkl_threads(int count) { return mkl_set_num_threads_local_fn ? mkl_set_num_threads_local_fn(count) : -1; }

/* CPU time of the calling thread, in seconds: below the wall time when other processes took its core. */
double ov_pool_thread_cpu_seconds(void) {
    struct timespec t;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0) return -1;
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
