/* Runs managed work on libtorch's own OpenMP threads (its GOMP_parallel, found through libtorch_cpu.so), for
   OpenVision/Native/TorchThreadTeam.cs. Image decoding between model calls uses it: on a pool of its own the decoder
   competes for the cores with libtorch's worker threads, which spin for milliseconds after each parallel region
   before they sleep; on libtorch's threads the spinning worker does the work instead. Nothing is printed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <string.h>

typedef void (*gomp_parallel_t)(void (*)(void *), void *, unsigned, unsigned);
static gomp_parallel_t gomp_parallel;

static int find_libtorch(struct dl_phdr_info *info, size_t size, void *path) {
    (void)size;
    if (info->dlpi_name && strstr(info->dlpi_name, "libtorch_cpu.so")) {
        strncpy((char *)path, info->dlpi_name, 4095);
        return 1;
    }
    return 0;
}

/* 1: ready; 0: libtorch or its OpenMP runtime was not found. Call after libtorch is loaded. */
int ov_pool_init(void) {
    char path[4096] = {0};
    if (!dl_iterate_phdr(find_libtorch, path)) return 0;
    void *torch = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
    if (!torch) return 0;
    /* Looked up through libtorch's handle: the libgomp it binds to (TorchSharp ships its own copy). */
    gomp_parallel = (gomp_parallel_t)dlsym(torch, "GOMP_parallel");
    return gomp_parallel ? 1 : 0;
}

/* Calls work(state) on each thread of the calling thread's team (libtorch's thread count), the caller included, and
   returns when all have returned. */
void ov_pool_run(void (*work)(void *), void *state) { gomp_parallel(work, state, 0, 0); }
