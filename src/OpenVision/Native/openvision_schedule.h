/* The work split shared by the kernels of bfloat16 and float32 models (openvision_bf16.c, openvision_f32.c): linear
   layers split by panels or rows between libtorch's OpenMP threads (claimed in runs from a shared counter where a job
   is shared), attention by (head, block of queries), layer norms by rows, and a whole transformer block in one parallel
   region. The including file defines the element type `ov_t` (uint16_t for bfloat16, float), `struct
   attention_buffers`, and after the include the kernels declared below. Every
   output element is computed by one thread in one order whichever schedule runs, so the schedules give the same bits. */
#ifndef OPENVISION_SCHEDULE_H
#define OPENVISION_SCHEDULE_H
#include <stdint.h>
#include <stdlib.h>
#include <x86intrin.h>
#include "libtorch_openmp.h"

#define NR 32 /* output columns per packed panel: two 16-lane vectors */
#ifndef MR
#define MR 8  /* rows per tile (the including file may choose 12) */
#endif
#define MC 96 /* rows per block that shares one pass over a panel */

/* One copy of a tile per row count 1-MR (the last tile of a block may be short). */
#if MR > 8
#define OV_BY_ROWS_ABOVE_8(call) case 12: call(12); break; case 11: call(11); break; case 10: call(10); break; case 9: call(9); break;
#else
#define OV_BY_ROWS_ABOVE_8(call)
#endif
#define OV_BY_ROWS(call) \
    switch (rows) { \
    OV_BY_ROWS_ABOVE_8(call) \
    case 8: call(8); break; case 7: call(7); break; case 6: call(6); break; case 5: call(5); break; \
    case 4: call(4); break; case 3: call(3); break; case 2: call(2); break; default: call(1); break; \
    }

/* `call(first, count)` on [begin, end) in groups of four, the rest as one group of 1-3: each count a constant, so
   that the lockstep helpers it calls keep their vectors in registers. */
#define OV_IN_FOURS(begin, end, call) \
    do { \
        int64_t ov_at_ = (begin), ov_end_ = (end); \
        for (; ov_at_ + 4 <= ov_end_; ov_at_ += 4) call(ov_at_, 4); \
        switch (ov_end_ - ov_at_) { case 3: call(ov_at_, 3); break; case 2: call(ov_at_, 2); break; case 1: call(ov_at_, 1); break; } \
    } while (0)

typedef void (*gomp_parallel_t)(void (*)(void *), void *, unsigned, unsigned);
typedef int (*omp_int_t)(void);
typedef void (*gomp_barrier_t)(void);
static gomp_parallel_t gomp_parallel;
static gomp_barrier_t gomp_barrier;
static omp_int_t omp_thread_num, omp_num_threads;

/* A barrier of the tower's stages. Built with -DOV_COUNT_WAITS (benchmarks/native/compare.sh does), each thread's
   time-stamp ticks at these barriers and in whole towers are counted, and ov_tower_waits reads them: how evenly a
   split kept the threads busy. */
#ifdef OV_COUNT_WAITS
static uint64_t ov_waited[64], ov_towered[64];
#define OV_STAGE_BARRIER() \
    do { \
        uint64_t ov_at_ = __rdtsc(); \
        gomp_barrier(); \
        if (omp_thread_num() < 64) ov_waited[omp_thread_num()] += __rdtsc() - ov_at_; \
    } while (0)
/* Ticks thread `thread` spent at the barriers and in towers since the library was loaded. */
void ov_tower_waits(int thread, uint64_t *waited, uint64_t *towered) {
    *waited = thread >= 0 && thread < 64 ? ov_waited[thread] : 0;
    *towered = thread >= 0 && thread < 64 ? ov_towered[thread] : 0;
}
#else
#define OV_STAGE_BARRIER() gomp_barrier()
#endif

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

/* The calling pool thread's scratch memory of at least `bytes`, 64-byte aligned: kept between calls (a fresh
   allocation per call cost page faults), grown when a larger model comes; null when out of memory. */
static char *ov_thread_scratch(size_t bytes) {
    static __thread char *scratch;
    static __thread size_t scratch_bytes;
    if (bytes > scratch_bytes) {
        free(scratch);
        scratch_bytes = (bytes + 63) / 64 * 64;
        scratch = aligned_alloc(64, scratch_bytes);
        if (!scratch) scratch_bytes = 0;
    }
    return scratch;
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
    int64_t claimed; /* units handed out so far by run_claimed: 0 in a new job */
};

/* Attention of qkv [B, L, 3, H, hd] into out [B, L, H·hd]. */
struct attention_job {
    const ov_t *qkv;
    ov_t *out;
    int64_t heads_total; /* images × heads */
    int tokens, heads, head_width;
    float scale;
    int64_t claimed; /* units handed out so far by attention_share: 0 in a new job */
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
   buffers (0 when out of memory); queries [q0, q1) of one head. */
static void tile_rows(const ov_t *x, int k, const ov_t *panel, const float *bias, int activate, const ov_t *residual, ov_t *y,
                      int n, int columns, int rows);
static void norm_rows(const struct norm_job *j, int64_t r0, int64_t r1);
static int attention_buffers(const struct attention_job *j, struct attention_buffers *buffers);
static void attention_head(const struct attention_job *j, int64_t head, int q0, int q1, const struct attention_buffers *a);
/* y [w] = a + b, rounded once to the element type; `n` elements copied from `from` to `to`. */
static void add_row(const ov_t *a, const ov_t *b, ov_t *y, int w);
/* `n` of an embedding job's pixels from element `at` into `to`: copied where they have the element type, float32
   pixels rounded to it where the job says `rounded`. */
struct embed_job;
static void cut_run(const struct embed_job *e, int64_t at, ov_t *to, int n);

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

/* Units handed out from a shared counter, `take` at a time, until none are left: [*unit, *end) or 0 when done. On a
   virtual machine's two Zen 1 cores, equal shares of Base's column-split stages left the threads waiting at the stages'
   barriers 4-8 % of the time (a core slowed by its neighbours for a while; measured with time-stamp counters around
   the barriers); claimed in small runs, the faster thread takes more. Which thread computes a unit does not change its
   bits. */
static int claim_units(int64_t *counter, int64_t take, int64_t units, int64_t *unit, int64_t *end) {
    *unit = __atomic_fetch_add(counter, take, __ATOMIC_RELAXED);
    if (*unit >= units) return 0;
    *end = *unit + take < units ? *unit + take : units;
    return 1;
}

/* Runs of `take` units, at least 8 per thread where there are enough units, at most `most` (larger runs keep more of
   the next-panel prefetch in run_range, smaller ones balance better). */
static int64_t claim_size(int64_t units, int threads, int64_t most) {
    int64_t take = units / (8 * (int64_t)threads);
    return take < 1 ? 1 : take > most ? most : take;
}

/* Where work is claimed (a stage's panels in run_claimed, a guided tower's rows in tower_rows), each thread first takes
   an equal part of FIXED_PERCENT % of it and only the rest is claimed: that evens out speeds up to about 1.6 to 1
   between two threads, and claiming everything cost 1-4 % where the host was quiet (ViT-Ti's rows on Zen 1, ViT-B's
   panels on Zen 5). */
#define FIXED_PERCENT 75

/* A job shared by the team: each thread first takes an equal share of FIXED_PERCENT % of the panels over all rows (as
   run_share does), then the other panels are claimed from j->claimed as units of (block of MC rows, panel) in
   block-major order, so the faster thread takes more. All claimed (from the first panel), Base's stages ran 2-4 % slower
   on two quiet Zen 5 cores than in equal shares (ViT-B batch 1 and 8 in tower_harness, same bits), and this split ran
   as fast as equal shares; a quarter claimed still evens out the 4-8 % the threads waited at these stages' barriers on a
   Zen 1 VM with equal shares. Jobs with fewer than 4 units per thread, or with panels for fewer than two per thread,
   take equal shares (run_share). */
static void run_claimed(void *data) {
    struct job *j = data;
    int count = panels(j), thread = omp_thread_num(), threads = omp_num_threads();
    int64_t blocks = (j->m + MC - 1) / MC;
    if (blocks * count < 4 * (int64_t)threads || count < 2 * threads) {
        run_share(data);
        return;
    }
    int fixed = count * FIXED_PERCENT / 100 / threads * threads, rest = count - fixed;
    run_range(j, 0, j->m, fixed * thread / threads, fixed * (thread + 1) / threads);
    int64_t units = blocks * rest, take = claim_size(units, threads, 4), unit, end;
    while (claim_units(&j->claimed, take, units, &unit, &end))
        while (unit < end) {
            int64_t m0 = unit / rest * MC;
            int p = (int)(unit % rest), last = end - unit < rest - p ? p + (int)(end - unit) : rest;
            run_range(j, m0, m0 + MC < j->m ? m0 + MC : j->m, fixed + p, fixed + last);
            unit += last - p;
        }
}

/* Units of (head, block of MR queries) claimed from j->claimed in runs; a run packs each head it touches once. */
static void attention_share(void *data) {
    struct attention_job *j = data;
    struct attention_buffers buffers;
    if (!attention_buffers(j, &buffers)) return;
    int blocks = (j->tokens + MR - 1) / MR;
    int64_t units = j->heads_total * blocks, take = claim_size(units, omp_num_threads(), blocks), unit, end;
    while (claim_units(&j->claimed, take, units, &unit, &end))
        while (unit < end) {
            int64_t head = unit / blocks;
            int first_block = (int)(unit % blocks), last_block = end - unit < blocks - first_block ? first_block + (int)(end - unit) : blocks;
            attention_head(j, head, first_block * MR, last_block * MR < j->tokens ? last_block * MR : j->tokens, &buffers);
            unit += last_block - first_block;
        }
}

/* The queries of rows [r0, r1) of [B·L], every head: each image they touch has its heads packed once. */
static void attention_queries(const struct attention_job *j, int64_t r0, int64_t r1) {
    struct attention_buffers buffers;
    if (r0 >= r1 || !attention_buffers(j, &buffers)) return;
    int L = j->tokens;
    for (int64_t image = r0 / L; image * L < r1; image++) {
        int q0 = r0 > image * L ? (int)(r0 - image * L) : 0, q1 = r1 < (image + 1) * L ? (int)(r1 - image * L) : L;
        for (int h = 0; h < j->heads; h++) attention_head(j, image * j->heads + h, q0, q1, &buffers);
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
};

static void block_share(void *data) {
    struct block_job *b = data; /* the stages' jobs count the units they hand out */
    void (*const stages[])(void *) = {norm_share, run_claimed, attention_share, run_claimed, norm_share, run_claimed, run_claimed};
    void *const jobs[] = {&b->ln1, &b->qkv, &b->attention, &b->out, &b->ln2, &b->fc, &b->proj};
    for (int stage = 0; stage < 7; stage++) {
        if (stage > 0) OV_STAGE_BARRIER(); /* each stage reads what the one before wrote */
        stages[stage](jobs[stage]);
    }
}

/* True for blocks whose weights may run split by rows (block_by_rows): at most 4 MB. */
static int64_t block_weight_bytes(int64_t width, int64_t hidden) {
    return (int64_t)sizeof(ov_t) * (4 * width * width + 2 * width * hidden);
}

static int small_block(int64_t width, int64_t hidden) { return block_weight_bytes(width, hidden) <= ((int64_t)4 << 20); }

/* Elements of scratch memory a block needs for `rows` = batch × tokens: the layer norms' (and attention's) output
   [rows, width], then qkv's [rows, 3·width] and c_fc's [rows, hidden]. Blocks that may run split by rows have two qkv
   buffers, taken by turns in a tower, and c_fc its own rows: a thread may write the next block's qkv rows while
   another still reads this block's keys and values, or its c_fc rows (rows of two widths in one buffer overlap across
   threads). Split by columns, barriers separate every stage and qkv and c_fc share one buffer. */
static int64_t block_scratch(int64_t rows, int width, int hidden) {
    int64_t w = width, h = hidden;
    return rows * (small_block(w, h) ? 7 * w + h : w + (h > 3 * w ? h : 3 * w));
}

/* Block `l` applied to x [B, L, W] into y (contiguous, not overlapping x), `scratch` holding block_scratch elements;
   `turn` 1 takes the second qkv buffer of a block that has two. */
static struct block_job block_job(const ov_t *x, int64_t batch, int tokens, const struct block_layers *l, ov_t *scratch, ov_t *y,
                                  int turn) {
    int64_t m = batch * tokens;
    int w = l->width, small = small_block(w, l->hidden);
    ov_t *normed = scratch, *qkv = scratch + m * w + (small && turn ? m * 3 * w : 0); /* normed also holds attention's output */
    ov_t *hidden = small ? scratch + m * 7 * w : qkv;                                 /* see block_scratch */
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

/* Shares of rows in proportion to each thread's measured speed. With equal shares, on two Zen 5 cores of a virtual
   machine where one core ran about 10 % slower than the other for a while (pinned single-thread runs), the other
   waited 10-14 % of the time at the barriers. Taking the rows in chunks from a shared counter instead balanced them
   but cost more than it saved: smaller chunks read the block's weights again each (ViT-Ti batch 1: 8.3 → 9.1 ms in
   float32). So the rows between two barriers are split once, in proportion to the speeds the threads measured (in
   time-stamp ticks) between the two barriers before, and every thread computes the same split from the same numbers;
   which thread computes which rows does not change a bit. A thread descheduled for a time slice is beyond it. Speeds
   are written to the slot of the block's parity and read from the other, so a thread that runs ahead past the barrier
   never overwrites numbers another thread has yet to read. */
#define OV_MAX_PACED 64 /* more threads than this take equal shares */

/* [*begin, *end) of `total` for this thread: in proportion to the speeds in `speed` where every thread has one, else
   equal shares. No thread counts as slower than a quarter of the fastest, so none is left without work to measure. */
static void paced_share(const double *speed, int threads, int thread, int64_t total, int64_t *begin, int64_t *end) {
    double fastest = 0;
    int measured = threads <= OV_MAX_PACED;
    for (int t = 0; measured && t < threads; t++) {
        if (!(speed[t] > 0)) measured = 0;
        else if (speed[t] > fastest) fastest = speed[t];
    }
    if (!measured) {
        *begin = total * thread / threads;
        *end = total * (thread + 1) / threads;
        return;
    }
    /* Running sums that every thread computes alike, so one thread's end is the next one's beginning. */
    double at[OV_MAX_PACED + 1], sum = 0;
    for (int t = 0; t < threads; t++) {
        at[t] = sum;
        sum += speed[t] > 0.25 * fastest ? speed[t] : 0.25 * fastest;
    }
    at[threads] = sum;
    *begin = thread == 0 ? 0 : (int64_t)((double)total * at[thread] / sum);
    *end = thread == threads - 1 ? total : (int64_t)((double)total * at[thread + 1] / sum);
}

/* Records this thread's speed over `work` units done in `ticks`, half the new measurement and half the last one (a
   thread preempted once should not be left almost nothing next time). */
static void record_speed(double *speed, const double *last, int thread, int64_t work, uint64_t ticks) {
    if (thread >= OV_MAX_PACED) return;
    if (work <= 0 || ticks == 0) {
        speed[thread] = last[thread];
        return;
    }
    double now = (double)work / (double)ticks;
    speed[thread] = last[thread] > 0 ? 0.5 * (now + last[thread]) : now;
}

/* What follows a block's attention on rows [r0, r1): out_proj and the skip connection, LN2, c_fc with GELU, c_proj
   and the skip connection. */
static void block_tail(const struct block_job *b, int64_t r0, int64_t r1) {
    run_range(&b->out, r0, r1, 0, panels(&b->out));
    norm_rows(&b->ln2, r0, r1);
    run_range(&b->fc, r0, r1, 0, panels(&b->fc));
    run_range(&b->proj, r0, r1, 0, panels(&b->proj));
}

struct tower_job {
    struct block_job *blocks;
    int count, by_rows;
    int64_t *claimed; /* by rows, in guided runs: rows handed out so far in each of the count + 1 stretches, 0 at first */
    double speed[2][OV_MAX_PACED]; /* by rows: rows per tick by block parity, 0 until measured (see paced_share) */
};

/* Rows [r0, r1) through stretch i of a tower split by rows: block i − 1's attention (its queries, every head of each
   image they touch) and tail, then block i's LN1 and qkv. */
static void stretch_rows(const struct tower_job *t, int i, int64_t r0, int64_t r1) {
    if (i > 0) {
        attention_queries(&t->blocks[i - 1].attention, r0, r1);
        block_tail(&t->blocks[i - 1], r0, r1);
    }
    if (i == t->count) return;
    norm_rows(&t->blocks[i].ln1, r0, r1);
    run_range(&t->blocks[i].qkv, r0, r1, 0, panels(&t->blocks[i].qkv));
}

/* Guided self-scheduling of m rows: each claim takes half of an equal share of the rows left, in whole blocks of MC
   rows while that is at least one (each block reads the weights once, as in a share), then in whole tiles, at least
   GUIDED_LEAST rows, so that the threads reach the barrier within about one small claim of each other. */
#define GUIDED_LEAST (2 * MR)
static int claim_guided(int64_t *claimed, int64_t m, int threads, int64_t *r0, int64_t *r1) {
    int64_t at = __atomic_load_n(claimed, __ATOMIC_RELAXED), take;
    do {
        if (at >= m) return 0;
        take = (m - at) / (2 * (int64_t)threads);
        take = take >= MC ? take / MC * MC : take / MR * MR;
        if (take < GUIDED_LEAST) take = GUIDED_LEAST;
        if (take > m - at) take = m - at;
    } while (!__atomic_compare_exchange_n(claimed, &at, at + take, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    *r0 = at;
    *r1 = at + take;
    return 1;
}

/* The blocks in turn in one parallel region, split by rows: every thread reads all of a block's weights (they are
   small) and carries rows through every layer, so only attention, which reads every row's keys and values, makes it
   wait for the others: one barrier per block, after qkv. Between two barriers (a stretch) a thread takes the attention
   of its rows' queries (every head of each image its rows touch), the block's tail, and the next block's LN1 and qkv
   of the same rows. The blocks take the two qkv buffers by turns, so that a thread may write the next keys and values
   while another still reads this block's. Against the former schedule with a second barrier per block (attention
   shared by (head, block of 8 queries) units between the two, which packed each head about once, and equal shares):
   ViT-Ti batch 1 on 2 Zen 5 cores, ten alternating runs, float32 0.3-6 % faster and bfloat16 0.7-8 % (most where the
   machine ran slow), batch 32 level. With at least GUIDED_IMAGES images per thread, each thread first takes an equal
   part of FIXED_PERCENT % of the rows (whole 96-row blocks) and the rest is claimed (claim_guided), which evens
   out speeds up to about 1.6 to 1 between the threads. On 2 Zen 1 cores of a virtual machine, paced shares left each
   thread waiting 2-6 % of ViT-Ti's batch-8 and batch-32 towers at the barriers, this 0.1-0.5 %: batch 32 1.03-1.07x
   faster (median of alternating calls; most where the host was busy); claiming all the rows saved the same waits but
   ran 1-2 % slower than this where the host was quiet. At batch 8 and 16 the waits saved were about what the extra
   packing and shorter blocks cost (0.98-1.01x), so with fewer images one share per thread in proportion to its speed
   (paced_share): every claim cut from an image packs its heads again, and claims of a few tiles each read the block's
   weights again. */
#define GUIDED_IMAGES 8
static void tower_rows(struct tower_job *t) {
    int thread = omp_thread_num(), threads = omp_num_threads();
    int64_t m = t->blocks[0].qkv.m, r0, r1;
    int tokens = t->blocks[0].attention.tokens, guided = m >= (int64_t)GUIDED_IMAGES * tokens * threads;
    /* Guided: each thread's fixed part of every stretch, the rows [0, fixed) split evenly in whole blocks. */
    int64_t part = m * FIXED_PERCENT / 100 / threads / MC * MC, fixed = part * threads;
    for (int i = 0; i <= t->count; i++) {
        if (guided) {
            stretch_rows(t, i, part * thread, part * (thread + 1));
            while (claim_guided(&t->claimed[i], m - fixed, threads, &r0, &r1)) stretch_rows(t, i, fixed + r0, fixed + r1);
        } else {
            int now = i % 2, last = 1 - now;
            paced_share(t->speed[last], threads, thread, m, &r0, &r1);
            uint64_t start = __rdtsc();
            stretch_rows(t, i, r0, r1);
            record_speed(t->speed[now], t->speed[last], thread, r1 - r0, __rdtsc() - start);
        }
        if (i < t->count) OV_STAGE_BARRIER(); /* attention reads every row's keys and values */
    }
}

/* Split by rows (tower_rows), or by columns with each stage of each block after a barrier. */
static void tower_blocks(struct tower_job *t) {
    if (t->by_rows) {
        tower_rows(t);
        return;
    }
    for (int i = 0; i < t->count; i++) {
        if (i > 0) OV_STAGE_BARRIER(); /* the next layer norm reads whole rows, written by column shares */
        block_share(&t->blocks[i]);
    }
}

static void tower_share(void *data) {
#ifdef OV_COUNT_WAITS
    uint64_t start = __rdtsc();
    tower_blocks(data);
    if (omp_thread_num() < 64) ov_towered[omp_thread_num()] += __rdtsc() - start;
#else
    tower_blocks(data);
#endif
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
        jobs[i] = block_job(in, batch, tokens, &layers[i], scratch, out, i % 2);
        in = out;
    }
    int64_t claimed[count + 1];
    for (int i = 0; i <= count; i++) claimed[i] = 0;
    struct tower_job t = {jobs, count, block_by_rows(batch, tokens, &layers[0], threads), claimed, {{0}}}; /* speeds unmeasured */
    gomp_parallel(tower_share, &t, threads > 0 ? (unsigned)threads : 0u, 0);
}
/* ---- The tokens a vision tower starts from: images [B, C, S, S] cut into g × g patches of p × p (S ≥ g·p; the rest is
   dropped, as by a stride-p convolution), each patch a row of C·p·p values in the filters' order (c, y, x), times the
   packed filters, plus the positional table; before them the class token plus the table's first row. */
struct embed_job {
    const void *pixels;                                      /* ov_t, or float32 where `rounded` */
    const ov_t *packed, *class_token, *positions;            /* positions [1 + g², W] */
    ov_t *patches, *y;                                       /* patches [B·g², C·p·p] scratch; y [B, 1 + g², W] */
    int64_t batch;
    int channels, side, patch, grid, width, rounded;
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
            for (int y = 0; y < p; y++) {
                int64_t at = (((image * e->channels + c) * e->side) + (int64_t)gy * p + y) * e->side + (int64_t)gx * p;
                cut_run(e, at, to + ((int64_t)c * p + y) * p, p);
            }
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
