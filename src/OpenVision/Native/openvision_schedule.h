/* The work split shared by the kernels of bfloat16 and float32 models (openvision_bf16.c, openvision_f32.c): linear
   layers split by panels or rows between libtorch's OpenMP threads, attention by (head, block of queries), layer norms
   by rows, and a whole transformer block in one parallel region. The including file defines the element type `ov_t`
   (uint16_t for bfloat16, float), `struct attention_buffers`, and after the include the kernels declared below. Every
   output element is computed by one thread in one order whichever schedule runs, so the schedules give the same bits. */
#ifndef OPENVISION_SCHEDULE_H
#define OPENVISION_SCHEDULE_H
#include <stdint.h>
#include "libtorch_openmp.h"

#define NR 32 /* output columns per packed panel: two 16-lane vectors */
#define MR 8  /* rows per tile */
#define MC 96 /* rows per block that shares one pass over a panel */

/* One copy of a tile per row count 1-8 (the last tile of a block may be short). */
#define OV_BY_ROWS(call) \
    switch (rows) { \
    case 8: call(8); break; case 7: call(7); break; case 6: call(6); break; case 5: call(5); break; \
    case 4: call(4); break; case 3: call(3); break; case 2: call(2); break; default: call(1); break; \
    }

typedef void (*gomp_parallel_t)(void (*)(void *), void *, unsigned, unsigned);
typedef int (*omp_int_t)(void);
typedef void (*gomp_barrier_t)(void);
static gomp_parallel_t gomp_parallel;
static gomp_barrier_t gomp_barrier;
static omp_int_t omp_thread_num, omp_num_threads;

/* Finds libtorch's OpenMP entry points (its own libgomp): 1 when all were found, 0 otherwise. */
static int ov_find_openmp(void) {
    void *torch = ov_libtorch_handle();
    if (!torch) return 0;
    gomp_parallel = (gomp_parallel_t)dlsym(torch, "GOMP_parallel");
    omp_thread_num = (omp_int_t)dlsym(torch, "omp_get_thread_num");
    omp_num_threads = (omp_int_t)dlsym(torch, "omp_get_num_threads");
    gomp_barrier = (gomp_barrier_t)dlsym(torch, "GOMP_barrier");
    return gomp_parallel && omp_thread_num && omp_num_threads && gomp_barrier;
}

/* y [m, n] = x [m, k] · Wᵀ (+ bias) [, GELU] (+ residual), W packed in panels of 32 rows (k × 32 elements each). */
struct job {
    const ov_t *x, *packed;
    const float *bias;
    int activate;
    const ov_t *residual;
    ov_t *y;
    int64_t m;
    int n, k;
};

/* Attention of qkv [B, L, 3, H, hd] into out [B, L, H·hd]. */
struct attention_job {
    const ov_t *qkv;
    ov_t *out;
    int64_t heads_total; /* images × heads */
    int tokens, heads, head_width;
    float scale;
};

/* The first query of head `head` (image head / H, head head % H); its keys are H·hd further on, its values 2·H·hd. */
static inline const ov_t *head_queries(const struct attention_job *j, int64_t head) {
    int64_t D = (int64_t)j->heads * j->head_width;
    return j->qkv + head / j->heads * j->tokens * 3 * D + head % j->heads * j->head_width;
}

/* LayerNorm of rows of width w. */
struct norm_job {
    const ov_t *x, *gamma, *beta;
    ov_t *y;
    int64_t m;
    int w;
    float eps;
};

/* The including file's kernels: a tile of rows × 32 outputs; layer-norm rows [r0, r1); the calling thread's attention
   buffers (0 when out of memory); query blocks [first_block, last_block) of one head. */
static void tile_rows(const ov_t *x, int k, const ov_t *panel, const float *bias, int activate, const ov_t *residual, ov_t *y,
                      int n, int columns, int rows);
static void norm_rows(const struct norm_job *j, int64_t r0, int64_t r1);
static int attention_buffers(const struct attention_job *j, struct attention_buffers *buffers);
static void attention_head(const struct attention_job *j, int64_t head, int first_block, int last_block, const struct attention_buffers *a);
/* y [w] = a + b, rounded once to the element type; `n` elements copied from `from` to `to`. */
static void add_row(const ov_t *a, const ov_t *b, ov_t *y, int w);
static void copy_run(const ov_t *from, ov_t *to, int n);

static int panels(const struct job *j) { return (j->n + NR - 1) / NR; }

/* Rows [m0, m1) × panels [p0, p1), in blocks of MC rows so a panel is read from cache for several tiles. */
static void run_range(const struct job *j, int64_t m0, int64_t m1, int p0, int p1) {
    for (int64_t block = m0; block < m1; block += MC) {
        int64_t end = block + MC < m1 ? block + MC : m1;
        for (int p = p0; p < p1; p++) {
            const ov_t *panel = j->packed + (int64_t)p * j->k * NR;
            int columns = j->n - p * NR < NR ? j->n - p * NR : NR;
            const float *bias = j->bias ? j->bias + p * NR : 0;
            /* The next panel is brought into L2 a slice per tile while this one is used: a block's weights (ViT-Ti:
               0.9 MB in bfloat16) are read from L3 once per call, and the hardware prefetcher starts late on each. */
            const char *next = p + 1 < p1 ? (const char *)(panel + (int64_t)j->k * NR) : 0;
            int64_t lines = (int64_t)j->k * NR * (int64_t)sizeof(ov_t) / 64, tiles = (end - block + MR - 1) / MR;
            int64_t per_tile = (lines + tiles - 1) / tiles, line = 0;
            for (int64_t i = block; i < end; i += MR) {
                int rows = end - i < MR ? (int)(end - i) : MR;
                if (next)
                    for (int64_t stop = line + per_tile < lines ? line + per_tile : lines; line < stop; line++)
                        __builtin_prefetch(next + line * 64, 0, 2);
                int64_t at = i * j->n + p * NR;
                tile_rows(j->x + i * j->k, j->k, panel, bias, j->activate, j->residual ? j->residual + at : 0, j->y + at,
                          j->n, columns, rows);
            }
        }
    }
}

/* Each thread takes a share of the panels, or of the rows where there are fewer panels than threads. */
static void run_share(void *data) {
    const struct job *j = data;
    int thread = omp_thread_num(), threads = omp_num_threads();
    int count = panels(j);
    if (count >= 2 * threads || j->m < (int64_t)MR * threads) {
        run_range(j, 0, j->m, (int)((int64_t)count * thread / threads), (int)((int64_t)count * (thread + 1) / threads));
    } else {
        int64_t tiles = (j->m + MR - 1) / MR;
        int64_t m0 = tiles * thread / threads * MR, m1 = tiles * (thread + 1) / threads * MR;
        run_range(j, m0, m1 < j->m ? m1 : j->m, 0, count);
    }
}

static void attention_share(void *data) {
    const struct attention_job *j = data;
    int thread = omp_thread_num(), threads = omp_num_threads();
    struct attention_buffers buffers;
    if (!attention_buffers(j, &buffers)) return;
    /* Each thread takes an equal run of (head, block of 8 queries) units and packs each head it touches once. */
    int blocks = (j->tokens + MR - 1) / MR;
    int64_t units = j->heads_total * blocks, end = units * (thread + 1) / threads;
    for (int64_t unit = units * thread / threads; unit < end;) {
        int64_t head = unit / blocks;
        int first_block = (int)(unit % blocks), last_block = end - unit < blocks - first_block ? first_block + (int)(end - unit) : blocks;
        attention_head(j, head, first_block, last_block, &buffers);
        unit += last_block - first_block;
    }
}

/* Query units [u0, u1), a unit being (image, block of 8 queries), over every head: the queries of a run of rows. */
static void attention_rows(const struct attention_job *j, int64_t u0, int64_t u1) {
    struct attention_buffers buffers;
    if (u0 >= u1 || !attention_buffers(j, &buffers)) return;
    int blocks = (j->tokens + MR - 1) / MR;
    for (int64_t unit = u0; unit < u1;) {
        int64_t image = unit / blocks;
        int first_block = (int)(unit % blocks), last_block = u1 - unit < blocks - first_block ? first_block + (int)(u1 - unit) : blocks;
        for (int h = 0; h < j->heads; h++) attention_head(j, image * j->heads + h, first_block, last_block, &buffers);
        unit += last_block - first_block;
    }
}

static void norm_share(void *data) {
    const struct norm_job *j = data;
    int thread = omp_thread_num(), threads = omp_num_threads();
    norm_rows(j, j->m * thread / threads, j->m * (thread + 1) / threads);
}

/* A whole pre-norm transformer block (open_clip's ResidualAttentionBlock with exact GELU, no mask) in one call and one
   parallel region: x1 = x + out(attention(qkv(LN1(x)))), y = x1 + proj(GELU(fc(LN2(x1)))). */
struct block_layers {
    const ov_t *ln1_gamma, *ln1_beta, *ln2_gamma, *ln2_beta; /* [width] or null */
    const ov_t *qkv, *out, *fc, *proj;                         /* packed */
    const float *qkv_bias, *out_bias, *fc_bias, *proj_bias;    /* float32 or null */
    int32_t width, hidden, heads;
    float eps, attention_scale; /* the layer norms' epsilon; the scores' scale, 1/√(width / heads) */
};

struct block_job {
    struct norm_job ln1, ln2;
    struct job qkv, out, fc, proj;
    struct attention_job attention;
    int after_block; /* another block ran before this one in the same parallel region (run_tower) */
};

/* The first row of query unit `unit` (image, block of 8 queries), or the end of the rows. */
static int64_t unit_row(int64_t unit, int blocks, int tokens) {
    int64_t block_row = (int64_t)(unit % blocks) * MR;
    return unit / blocks * tokens + (block_row < tokens ? block_row : tokens);
}

/* Each thread takes a run of whole query blocks and carries its rows through the block alone, all columns of every
   layer, so only attention (which reads every row's keys and values) makes it wait for the others. Where there are
   fewer images than threads, every thread would pack each head's keys and values of the image it shares; then the
   threads take equal runs of rows and share attention by (head, block of queries) units instead, which packs each head
   about once and balances the work to a unit (ViT-Ti batch 1 on 2 threads: 98 and 99 rows, 37 and 38 units, against
   96 and 101 rows, 36 and 39 units). Attention's output then comes from several threads: one more barrier, before
   out_proj. In a tower (run_tower) a thread goes on to the next block without waiting; with rows per image, other
   threads' attention may still read its keys and values then, so it waits once more before overwriting them. */
static void block_rows(void *data) {
    const struct block_job *b = data;
    int thread = omp_thread_num(), threads = omp_num_threads();
    int tokens = b->attention.tokens, blocks = (tokens + MR - 1) / MR;
    int64_t images = b->attention.heads_total / b->attention.heads, units = images * blocks;
    int64_t u0 = units * thread / threads, u1 = units * (thread + 1) / threads;
    int shared = images < threads;
    int64_t r0 = shared ? b->qkv.m * thread / threads : unit_row(u0, blocks, tokens);
    int64_t r1 = shared ? b->qkv.m * (thread + 1) / threads : unit_row(u1, blocks, tokens);
    norm_rows(&b->ln1, r0, r1);
    if (b->after_block && !shared) gomp_barrier(); /* the previous block's attention may still read keys and values here */
    run_range(&b->qkv, r0, r1, 0, panels(&b->qkv));
    gomp_barrier(); /* attention reads every row's keys and values */
    if (shared) {
        attention_share((void *)&b->attention);
        gomp_barrier(); /* out_proj reads every head of its rows */
    } else {
        attention_rows(&b->attention, u0, u1);
    }
    run_range(&b->out, r0, r1, 0, panels(&b->out));
    norm_rows(&b->ln2, r0, r1);
    run_range(&b->fc, r0, r1, 0, panels(&b->fc));
    run_range(&b->proj, r0, r1, 0, panels(&b->proj));
}

static void block_share(void *data) {
    const struct block_job *b = data;
    void (*const stages[])(void *) = {norm_share, run_share, attention_share, run_share, norm_share, run_share, run_share};
    const void *const jobs[] = {&b->ln1, &b->qkv, &b->attention, &b->out, &b->ln2, &b->fc, &b->proj};
    for (int stage = 0; stage < 7; stage++) {
        if (stage > 0) gomp_barrier(); /* each stage reads what the one before wrote */
        stages[stage]((void *)jobs[stage]);
    }
}

/* True for blocks whose weights may run split by rows (block_by_rows): at most 4 MB. */
static int64_t block_weight_bytes(int64_t width, int64_t hidden) {
    return (int64_t)sizeof(ov_t) * (4 * width * width + 2 * width * hidden);
}

static int small_block(int64_t width, int64_t hidden) { return block_weight_bytes(width, hidden) <= ((int64_t)4 << 20); }

/* Elements of scratch memory a block needs for `rows` = batch × tokens: the layer norms' (and attention's) output
   [rows, width], then qkv's [rows, 3·width] and c_fc's [rows, hidden]. Blocks that may run split by rows give c_fc
   its own rows, so that in a tower a thread may write the next block's qkv rows while another still reads its c_fc
   rows (rows of two widths in one buffer overlap across threads); split by columns, barriers separate every stage
   and the two share one buffer. */
static int64_t block_scratch(int64_t rows, int width, int hidden) {
    int64_t w = width, h = hidden;
    return rows * (small_block(w, h) ? 4 * w + h : w + (h > 3 * w ? h : 3 * w));
}

/* Block `l` applied to x [B, L, W] into y (contiguous, not overlapping x), `scratch` holding block_scratch elements. */
static struct block_job block_job(const ov_t *x, int64_t batch, int tokens, const struct block_layers *l, ov_t *scratch, ov_t *y) {
    int64_t m = batch * tokens;
    int w = l->width;
    ov_t *normed = scratch, *qkv = scratch + m * w; /* normed also holds attention's output */
    ov_t *hidden = small_block(w, l->hidden) ? qkv + m * 3 * w : qkv; /* see block_scratch */
    struct block_job b = {
        .ln1 = {x, l->ln1_gamma, l->ln1_beta, normed, m, w, l->eps},
        .ln2 = {y, l->ln2_gamma, l->ln2_beta, normed, m, w, l->eps},
        .qkv = {normed, l->qkv, l->qkv_bias, 0, 0, qkv, m, 3 * w, w},
        .out = {normed, l->out, l->out_bias, 0, x, y, m, w, w},
        .fc = {normed, l->fc, l->fc_bias, 1, 0, hidden, m, l->hidden, w},
        /* y is its own residual here: each tile reads its residual before it writes the same elements. */
        .proj = {hidden, l->proj, l->proj_bias, 0, y, y, m, w, l->hidden},
        .attention = {qkv, normed, batch * l->heads, tokens, l->heads, w / l->heads, l->attention_scale},
    };
    return b;
}

/* Rows per thread when the block's weights are small enough for every thread to read all of them, and there are enough
   rows: ViT-Ti (0.9 MB in bfloat16, 1.8 MB in float32) at any batch with at least 8 blocks of queries per thread, larger
   blocks up to 4 MB (ViT-S in bfloat16: 3.5 MB) from 512 rows. On 2 Zen 5 cores: bf16 Tiny batch 8 and 32 1.11× faster
   than the stages split by columns, Small batch 8 1.09×; Tiny batch 1 1.05× in bfloat16 and 1.06× in float32 (12 blocks
   of distinct weights in turn, five alternating runs); Small batch 1 0.96× and Base's 14 MB (batch 1 0.90×, batch 8
   1.01×) ran as fast or faster split by columns. threads ≤ 0 (the pool's own count): not by the first rule. */
static int block_by_rows(int64_t batch, int tokens, const struct block_layers *l, int threads) {
    int64_t query_blocks = batch * ((tokens + MR - 1) / MR);
    return (block_weight_bytes(l->width, l->hidden) <= ((int64_t)2 << 20) && threads > 0 && query_blocks >= (int64_t)8 * threads)
        || (batch * tokens >= 512 && small_block(l->width, l->hidden));
}

struct tower_job {
    const struct block_job *blocks;
    int count, by_rows;
};

/* The blocks in turn in one parallel region. Split by rows, a thread goes on to the next block's layer norm of its own
   rows without waiting (it reads only those rows of the previous output), and to its qkv once no thread can still be
   in the previous block's attention: with attention shared by units, the barrier after it saw to that; with rows per
   image, block_rows waits first. Split by columns, each block begins after a barrier. */
static void tower_share(void *data) {
    const struct tower_job *t = data;
    for (int i = 0; i < t->count; i++) {
        if (t->by_rows) {
            block_rows((void *)&t->blocks[i]);
        } else {
            if (i > 0) gomp_barrier(); /* the next layer norm reads whole rows, written by column shares */
            block_share((void *)&t->blocks[i]);
        }
    }
}

/* y [B, L, W] = blocks layers[0], ..., layers[count − 1] applied in turn to x [B, L, W] (contiguous; y and spare, each
   [B, L, W], must not overlap x or each other; spare is unused for one block and may be null then): one parallel region
   instead of one per block, the same bits as the blocks one at a time. The blocks must share the shapes (width,
   hidden, heads). Outputs alternate between y and spare so that the last lands in y. */
static void run_tower(const ov_t *x, int64_t batch, int tokens, const struct block_layers *layers, int count, ov_t *scratch, ov_t *y,
                      ov_t *spare, int threads) {
    if (count <= 0) return;
    struct block_job jobs[count]; /* a few hundred bytes each: a few KB for the deepest towers */
    const ov_t *in = x;
    for (int i = 0; i < count; i++) {
        ov_t *out = (count - 1 - i) % 2 == 0 ? y : spare;
        jobs[i] = block_job(in, batch, tokens, &layers[i], scratch, out);
        jobs[i].after_block = i > 0;
        in = out;
    }
    struct tower_job t = {jobs, count, block_by_rows(batch, tokens, &layers[0], threads)};
    gomp_parallel(tower_share, &t, threads > 0 ? (unsigned)threads : 0u, 0);
}
/* ---- The tokens a vision tower starts from: images [B, C, S, S] cut into g × g patches of p × p (S ≥ g·p; the rest is
   dropped, as by a stride-p convolution), each patch a row of C·p·p values in the filters' order (c, y, x), times the
   packed filters, plus the positional table; before them the class token plus the table's first row. */
struct embed_job {
    const ov_t *pixels, *packed, *class_token, *positions; /* positions [1 + g², W] */
    ov_t *patches, *y;                                       /* patches [B·g², C·p·p] scratch; y [B, 1 + g², W] */
    int64_t batch;
    int channels, side, patch, grid, width;
};

static void embed_share(void *data) {
    const struct embed_job *e = data;
    int thread = omp_thread_num(), threads = omp_num_threads();
    int p = e->patch, g = e->grid, k = e->channels * p * p, w = e->width;
    int64_t cells = (int64_t)g * g, rows = e->batch * cells, tokens = cells + 1;
    for (int64_t r = rows * thread / threads; r < rows * (thread + 1) / threads; r++) {
        int64_t image = r / cells;
        int gy = (int)(r % cells / g), gx = (int)(r % g);
        ov_t *to = e->patches + r * k;
        for (int c = 0; c < e->channels; c++)
            for (int y = 0; y < p; y++)
                copy_run(e->pixels + (((image * e->channels + c) * e->side) + (int64_t)gy * p + y) * e->side + (int64_t)gx * p,
                         to + ((int64_t)c * p + y) * p, p);
    }
    gomp_barrier(); /* an image's patches may have been cut out by another thread */
    for (int64_t image = 0; image < e->batch; image++) {
        ov_t *first = e->y + image * tokens * w;
        /* The patch rows of the image: their products plus the table's rows 1 … g² in the tile, one rounding. */
        struct job j = {e->patches + image * cells * k, e->packed, 0, 0, e->positions + w, first + w, cells, w, k};
        run_share(&j);
        if (thread == threads - 1) add_row(e->class_token, e->positions, first, w);
    }
}

static void run_embed(const struct embed_job *e, int threads) {
    gomp_parallel(embed_share, (void *)e, threads > 0 ? (unsigned)threads : 0u, 0);
}
#endif
