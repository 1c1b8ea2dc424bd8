/* Times whole vision towers (ov_f32_tower or ov_bf16_tower: 12 pre-norm blocks of random weights) in one or more builds
   of the float32 or the bfloat16 kernel library (all of one kind in a run), call for call in turn, so that a change to
   the kernels or the work split is measured against the build before it on the same machine at the same moments; a
   shared machine's speed wanders by more than most such changes. Prints each build's best, median and mean time and
   GFLOP/s, and whether every build's output has the first build's bits (each output element is one sum in one order in
   every build that keeps the kernels' arithmetic).

   Build: cc -O2 -o tower_harness tower_harness.c -ldl -lm
   Run:   TORCH=.../libtorch_cpu.so ./tower_harness WIDTH HEADS BATCH CALLS LIB.so [LIB.so ...]
          (HIDDEN=n for another MLP width than 4·WIDTH, THREADS=n for another thread count than libtorch's default)
   compare.sh builds the libraries of two commits and runs this for ViT-Ti and ViT-B shapes. A library built with
   -DOV_COUNT_WAITS also reports each thread's share of its time spent waiting at the stages' barriers. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "harness_util.h"

/* openvision_schedule.h's struct block_layers: elements of the library's type (float or bfloat16), float32 biases. */
struct block_layers {
    const void *ln1_gamma, *ln1_beta, *ln2_gamma, *ln2_beta;
    const void *qkv, *out, *fc, *proj;
    const float *qkv_bias, *out_bias, *fc_bias, *proj_bias;
    int32_t width, hidden, heads;
    float eps, attention_scale;
};
typedef int (*init_t)(void);
typedef int64_t (*packed_bytes_t)(int, int);
typedef void (*pack_t)(const void *, int, int, void *);
typedef int64_t (*scratch_t)(int64_t, int, int);
typedef void (*tower_t)(const void *, int64_t, int, const struct block_layers *, int, void *, void *, void *, int);
typedef void (*waits_t)(int, uint64_t *, uint64_t *);

#define MAX_LIBS 8
#define BLOCKS 12
#define TOKENS 197

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void *symbol(void *lib, const char *prefix, const char *name, const char *path) {
    char full[64];
    snprintf(full, sizeof full, "%s_%s", prefix, name);
    void *s = dlsym(lib, full);
    if (!s) { fprintf(stderr, "%s: no %s\n", path, full); exit(1); }
    return s;
}

/* The library's elements from float32: as they are (4 bytes), or rounded to bfloat16 (2 bytes, to nearest even). */
static void *elements(const float *from, int64_t n, int size) {
    if (size == 4) return (void *)from;
    uint16_t *to = aligned_alloc(64, ((size_t)n * 2 + 63) / 64 * 64);
    for (int64_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, from + i, 4);
        to[i] = (uint16_t)((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
    }
    return to;
}

int main(int argc, char **argv) {
    if (argc < 6 || argc - 5 > MAX_LIBS || !getenv("TORCH")) {
        fprintf(stderr, "usage: TORCH=libtorch_cpu.so %s WIDTH HEADS BATCH CALLS LIB.so [LIB.so ...] (at most %d)\n", argv[0], MAX_LIBS);
        return 2;
    }
    int width = atoi(argv[1]), heads = atoi(argv[2]), batch = atoi(argv[3]), calls = atoi(argv[4]), libs = argc - 5;
    int hidden = getenv("HIDDEN") ? atoi(getenv("HIDDEN")) : 4 * width, threads = getenv("THREADS") ? atoi(getenv("THREADS")) : 0;
    if (width <= 0 || heads <= 0 || width % heads || batch <= 0 || calls < 2 || hidden <= 0) {
        fprintf(stderr, "WIDTH a multiple of HEADS, BATCH ≥ 1, CALLS ≥ 2\n");
        return 2;
    }
    /* The kernels find libtorch's OpenMP runtime in the process (ov_f32_init). */
    if (!dlopen(getenv("TORCH"), RTLD_NOW | RTLD_GLOBAL)) { fprintf(stderr, "%s\n", dlerror()); return 1; }

    srand(1);
    int rows[4] = {3 * width, width, hidden, width}, cols[4] = {width, width, width, hidden};
    /* The kind of library: the first one's symbols decide; the others must have the same (symbol() stops otherwise). */
    void *first = dlopen(argv[5], RTLD_NOW | RTLD_LOCAL);
    if (!first) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    int size = dlsym(first, "ov_f32_tower") ? 4 : 2;
    const char *prefix = size == 4 ? "ov_f32" : "ov_bf16";

    /* The same random inputs for every library, in its element type (biases stay float32). */
    void *weights[4];
    for (int i = 0; i < 4; i++)
        weights[i] = elements(random_floats((int64_t)rows[i] * cols[i], i == 3 ? 0.05f : 0.1f), (int64_t)rows[i] * cols[i], size);
    void *gamma = elements(random_floats(width, 1), width, size), *beta = elements(random_floats(width, 1), width, size);
    float *bias = random_floats(3 * (int64_t)hidden, 0.1f);
    int64_t m = (int64_t)batch * TOKENS;
    void *x = elements(random_floats(m * width, 2), m * width, size);

    tower_t tower[MAX_LIBS];
    waits_t waits[MAX_LIBS];
    struct block_layers *layers[MAX_LIBS];
    void *scratch[MAX_LIBS], *y[MAX_LIBS], *spare[MAX_LIBS];
    for (int l = 0; l < libs; l++) {
        const char *path = argv[5 + l];
        void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 1; }
        int ready = ((init_t)symbol(lib, prefix, "init", path))();
        if (ready != 2) {
            fprintf(stderr, "%s: %s_init gave %d (0: the CPU lacks its instructions; 1: no OpenMP; 3: AMX, where the app leaves bfloat16 to libtorch)\n",
                    path, prefix, ready);
            return 1;
        }
        tower[l] = (tower_t)symbol(lib, prefix, "tower", path);
        waits[l] = (waits_t)dlsym(lib, "ov_tower_waits"); /* built with -DOV_COUNT_WAITS only */
        void *packed[4];
        for (int i = 0; i < 4; i++) {
            packed[i] = aligned_alloc(64, (size_t)((packed_bytes_t)symbol(lib, prefix, "packed_bytes", path))(rows[i], cols[i]));
            ((pack_t)symbol(lib, prefix, "pack", path))(weights[i], rows[i], cols[i], packed[i]);
        }
        layers[l] = malloc(sizeof(struct block_layers) * BLOCKS);
        for (int b = 0; b < BLOCKS; b++)
            layers[l][b] = (struct block_layers){gamma, beta, gamma, beta, packed[0], packed[1], packed[2], packed[3], bias, bias, bias, bias,
                                                 width, hidden, heads, 1e-6f, 1.0f / sqrtf((float)(width / heads))};
        scratch[l] = aligned_alloc(64, (size_t)((scratch_t)symbol(lib, prefix, "block_scratch", path))(m, width, hidden) * size + 64);
        y[l] = random_floats(m * width, 1);
        spare[l] = random_floats(m * width, 1);
    }

    double flops = (double)BLOCKS * (2.0 * m * width * (4.0 * width + 2.0 * hidden) + 4.0 * batch * (double)TOKENS * TOKENS * width);
    double *times = calloc((size_t)libs * calls, sizeof(double));
    for (int call = 0; call < calls; call++)
        for (int turn = 0; turn < libs; turn++) {
            int l = call % 2 ? libs - 1 - turn : turn; /* forth and back: no build always runs right after another */
            double start = now();
            tower[l](x, batch, TOKENS, layers[l], BLOCKS, scratch[l], y[l], spare[l], threads);
            times[(size_t)l * calls + call] = now() - start;
        }
    printf("%s: %d blocks of width %d, hidden %d, %d heads, batch %d × %d tokens; %d calls each after one untimed, in turn forth and back\n",
           size == 4 ? "float32" : "bfloat16", BLOCKS, width, hidden, heads, batch, TOKENS, calls - 1);
    for (int l = 0; l < libs; l++) {
        double *t = times + (size_t)l * calls + 1, sum = 0; /* the first call warms caches and threads */
        int n = calls - 1;
        for (int i = 0; i < n; i++) sum += t[i];
        qsort(t, (size_t)n, sizeof(double), by_value);
        double median = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
        int same = memcmp(y[l], y[0], (size_t)m * width * size) == 0;
        const char *name = strrchr(argv[5 + l], '/') ? strrchr(argv[5 + l], '/') + 1 : argv[5 + l];
        printf("%-24s best %8.2f ms (%5.1f GFLOP/s)  median %8.2f ms (%5.1f)  mean %8.2f ms  %s\n", name, t[0] * 1e3,
               flops / t[0] * 1e-9, median * 1e3, flops / median * 1e-9, sum / n * 1e3, l == 0 ? "" : same ? "same bits" : "OTHER BITS");
        if (waits[l]) {
            printf("%24s waited at barriers:", "");
            uint64_t waited, towered;
            for (int thread = 0; thread < 64 && (waits[l](thread, &waited, &towered), towered > 0); thread++)
                printf(" %.1f %%", 100.0 * (double)waited / (double)towered);
            printf(" of each thread's time in towers\n");
        }
    }
    return 0;
}
