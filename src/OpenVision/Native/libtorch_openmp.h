/* Shared by the shims that run work on libtorch's own OpenMP threads (openvision_bf16.c, openvision_pool.c): the
   handle of the loaded libtorch_cpu.so, through which they look up the libgomp it binds to (TorchSharp ships its own
   copy, so a plain GOMP_parallel could bind to another). */
#ifndef OPENVISION_LIBTORCH_OPENMP_H
#define OPENVISION_LIBTORCH_OPENMP_H
#include <dlfcn.h>
#include <link.h>
#include <string.h>

static int ov_find_libtorch(struct dl_phdr_info *info, size_t size, void *path) {
    (void)size;
    if (info->dlpi_name && strstr(info->dlpi_name, "libtorch_cpu.so")) {
        strncpy((char *)path, info->dlpi_name, 4095);
        return 1;
    }
    return 0;
}

/* libtorch_cpu.so's handle, or null when it is not loaded. */
static void *ov_libtorch_handle(void) {
    char path[4096] = {0};
    if (!dl_iterate_phdr(ov_find_libtorch, path)) return 0;
    return dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
}
#endif
