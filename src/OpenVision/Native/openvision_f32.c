/* The vision blocks of float32 models at inference, for OpenVision/Layers/Float32Ops.cs: a whole pre-norm block (layer
   norms, linear layers with bias, exact GELU and the skip connections, multi-head attention) in one call, with AVX-512
   fused multiply-adds. libtorch's MKL GEMM runs ViT-Tiny's and ViT-Base's linear layers at batch 1 at 120-175 GFLOP/s on
   two AMD Zen 4 cores, this kernel at 175-210 (docs/speed.md), because the weights are packed once (MKL packs them on
   every call) and the 8 × 32 tile keeps 16 accumulators in registers; libtorch's attention ran at a third of the GEMM
   rate there. Every output element is one sum in a fixed order whatever the batch size, the thread count or the split
   between threads: a block's output for an image does not depend on what it was batched with. The work runs on libtorch's own OpenMP
   pool (its GOMP_parallel, found through libtorch_cpu.so), so its threads never compete with ours. Nothing is printed. */
#define _GNU_SOURCE
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include "libtorch_openmp.h"
#include "openvision_simd.h"

#define NR 32 /* output columns per packed panel: two 16-lane vectors */
#define MR 8  /* rows per tile */
#define MC 96 /* rows per block that shares one pass over a panel */
#define KC 128 /* terms per chunk of a sum (see accumulate) */

typedef void (*gomp_parallel_t)(void (*)(void *), void *, unsigned, unsigned);
typedef int (*omp_int_t)(void);
typedef void (*gomp_barrier_t)(void);
static gomp_parallel_t gomp_parallel;
static gomp_barrier_t gomp_barrier;
static omp_int_t omp_thread_num, omp_num_threads;

/* 0: the CPU lacks AVX-512; 1: it has it but libtorch's OpenMP runtime was not found (not used then); 2: ready. Call
   after libtorch is loaded. */
int ov_f32_init(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) return 0;
    void *torch = ov_libtorch_handle();
    if (!torch) return 1;
    gomp_parallel = (gomp_parallel_t)dlsym(torch, "GOMP_parallel");
    omp_thread_num = (omp_int_t)dlsym(torch, "omp_get_thread_num");
    omp_num_threads = (omp_int_t)dlsym(torch, "omp_get_num_threads");
    gomp_barrier = (gomp_barrier_t)dlsym(torch, "GOMP_barrier");
    return gomp_parallel && omp_thread_num && omp_num_threads && gomp_barrier ? 2 : 1;
}

/* Bytes of the packed form of an n × k weight: panels of 32 rows, zero-padded. */
int64_t ov_f32_packed_bytes(int n, int k) { return (int64_t)((n + NR - 1) / NR) * NR * k * 4; }

/* W [n, k] row-major → panels p of [k][32]: element k of each of the panel's 32 rows side by side. */
void ov_f32_pack(const float *w, int n, int k, float *packed) {
    int panels = (n + NR - 1) / NR;
    for (int p = 0; p < panels; p++)
        for (int j = 0; j < NR; j++) {
            int row = p * NR + j;
            float *to = packed + (int64_t)p * k * NR + j;
            for (int kk = 0; kk < k; kk++) to[(int64_t)kk * NR] = row < n ? w[(int64_t)row * k + kk] : 0;
        }
}

/* The sums of a rows × 32 tile: x's rows `lda` apart times one packed panel over k, added to c0/c1 (columns 0-15 and
   16-31, holding the starting values). The sum runs in chunks of KC terms, each from zero, added to the total in
   order: the rounding error then grows with the chunk length and the number of chunks rather than with k (one chain
   over ViT-B's k = 3072 had 3.7 times libtorch's error against float64, whose MKL also sums in blocks of k). Always
   inlined with a constant row count, so the accumulators stay in registers. */
__attribute__((target("avx512f"), always_inline))
static inline void accumulate(const float *x, int64_t lda, int k, const float *panel, __m512 *c0, __m512 *c1, int rows) {
    for (int k0 = 0; k0 < k; k0 += KC) {
        int k1 = k - k0 < KC ? k : k0 + KC;
        __m512 s0[MR], s1[MR];
        for (int i = 0; i < rows; i++) { s0[i] = _mm512_setzero_ps(); s1[i] = _mm512_setzero_ps(); }
        for (int kk = k0; kk < k1; kk++) {
            __m512 w0 = _mm512_loadu_ps(panel + (int64_t)kk * NR), w1 = _mm512_loadu_ps(panel + (int64_t)kk * NR + 16);
            for (int i = 0; i < rows; i++) {
                __m512 a = _mm512_set1_ps(x[i * lda + kk]);
                s0[i] = _mm512_fmadd_ps(a, w0, s0[i]);
                s1[i] = _mm512_fmadd_ps(a, w1, s1[i]);
            }
        }
        for (int i = 0; i < rows; i++) { c0[i] = _mm512_add_ps(c0[i], s0[i]); c1[i] = _mm512_add_ps(c1[i], s1[i]); }
    }
}

/* A linear layer's rows × 32 tile of y: bias, sums, GELU if asked, residual; `columns` of the 32 are stored. */
__attribute__((target("avx512f"), always_inline))
static inline void tile(const float *x, int k, const float *panel, const float *bias, int activate, const float *residual,
                        float *y, int n, int columns, int rows) {
    __m512 c0[MR], c1[MR];
    __m512 b0 = bias ? _mm512_maskz_loadu_ps(first(columns), bias) : _mm512_setzero_ps();
    __m512 b1 = bias ? _mm512_maskz_loadu_ps(first(columns - 16), bias + 16) : _mm512_setzero_ps();
    for (int i = 0; i < rows; i++) { c0[i] = b0; c1[i] = b1; }
    accumulate(x, k, k, panel, c0, c1, rows);
    if (activate)
        for (int i = 0; i < rows; i++) { c0[i] = gelu(c0[i]); c1[i] = gelu(c1[i]); }
    for (int i = 0; i < rows; i++) {
        float *to = y + (int64_t)i * n;
        if (residual) {
            const float *skip = residual + (int64_t)i * n;
            c0[i] = _mm512_add_ps(c0[i], _mm512_maskz_loadu_ps(first(columns), skip));
            c1[i] = _mm512_add_ps(c1[i], _mm512_maskz_loadu_ps(first(columns - 16), skip + 16));
        }
        _mm512_mask_storeu_ps(to, first(columns), c0[i]);
        _mm512_mask_storeu_ps(to + 16, first(columns - 16), c1[i]);
    }
}

/* An attention product's rows × 32 tile (x's rows `lda` apart), stored whole into c (rows `ldc` apart). */
__attribute__((target("avx512f"), always_inline))
static inline void tile_plain(const float *x, int64_t lda, int k, const float *panel, float *c, int ldc, int rows) {
    __m512 c0[MR], c1[MR];
    for (int i = 0; i < rows; i++) { c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps(); }
    accumulate(x, lda, k, panel, c0, c1, rows);
    for (int i = 0; i < rows; i++) { _mm512_storeu_ps(c + i * ldc, c0[i]); _mm512_storeu_ps(c + i * ldc + 16, c1[i]); }
}

/* One copy of a tile per row count 1-8 (the last tile of a block may be short). */
#define OV_BY_ROWS(call) \
    switch (rows) { \
    case 8: call(8); break; case 7: call(7); break; case 6: call(6); break; case 5: call(5); break; \
    case 4: call(4); break; case 3: call(3); break; case 2: call(2); break; default: call(1); break; \
    }

__attribute__((target("avx512f")))
static void tile_rows(const float *x, int k, const float *panel, const float *bias, int activate, const float *residual,
                      float *y, int n, int columns, int rows) {
#define OV_TILE(r) tile(x, k, panel, bias, activate, residual, y, n, columns, r)
    OV_BY_ROWS(OV_TILE)
#undef OV_TILE
}

__attribute__((target("avx512f")))
static void tile_plain_rows(const float *x, int64_t lda, int k, const float *panel, float *c, int ldc, int rows) {
#define OV_TILE(r) tile_plain(x, lda, k, panel, c, ldc, r)
    OV_BY_ROWS(OV_TILE)
#undef OV_TILE
}

struct job {
    const float *x, *packed, *bias;
    int activate;
    const float *residual;
    float *y;
    int64_t m;
    int n, k;
};

static int panels(const struct job *j) { return (j->n + NR - 1) / NR; }

/* Rows [m0, m1) × panels [p0, p1), in blocks of MC rows so a panel is read from cache for several tiles. */
static void run_range(const struct job *j, int64_t m0, int64_t m1, int p0, int p1) {
    for (int64_t block = m0; block < m1; block += MC) {
        int64_t end = block + MC < m1 ? block + MC : m1;
        for (int p = p0; p < p1; p++) {
            const float *panel = j->packed + (int64_t)p * j->k * NR;
            int columns = j->n - p * NR < NR ? j->n - p * NR : NR;
            const float *bias = j->bias ? j->bias + p * NR : 0;
            for (int64_t i = block; i < end; i += MR) {
                int rows = end - i < MR ? (int)(end - i) : MR;
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

/* ---- Attention: softmax(q·kᵀ·scale)·v per head in float32 (the probabilities unnormalised until the end, divided by
   their sum as libtorch's CPU flash attention does), read straight from the in_proj output [B, L, 3, H, hd] and written
   with the heads already merged, [B, L, H·hd]. */

struct attention_job {
    const float *qkv;
    float *out;
    int64_t heads_total; /* images × heads */
    int tokens, heads, head_width;
    float scale;
};

/* The first query of head `head` (image head / H, head head % H); its keys are H·hd further on, its values 2·H·hd. */
static inline const float *head_queries(const struct attention_job *j, int64_t head) {
    int64_t D = (int64_t)j->heads * j->head_width;
    return j->qkv + head / j->heads * j->tokens * 3 * D + head % j->heads * j->head_width;
}

/* One head's keys as a weight (panels of 32 keys, dimension d of each key side by side, zeros past the last key) and
   its values (panels of 32 dimensions, one row per key, zeros past the last dimension). */
__attribute__((target("avx512f")))
static void pack_head(const float *k, const float *v, int64_t row, int L, int hd, float *keys, float *values) {
    int key_panels = (L + NR - 1) / NR, value_panels = (hd + NR - 1) / NR;
    __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m512i stride = _mm512_mullo_epi32(lanes, _mm512_set1_epi32((int)row));
    for (int p = 0; p < key_panels; p++)
        for (int half = 0; half < 2; half++) {
            int key0 = p * NR + half * 16;
            __mmask16 valid = first(L - key0);
            const float *from = k + (int64_t)key0 * row;
            float *to = keys + (int64_t)p * hd * NR + half * 16;
            for (int d = 0; d < hd; d++)
                _mm512_storeu_ps(to + (int64_t)d * NR, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, stride, from + d, 4));
        }
    for (int p = 0; p < value_panels; p++) {
        __mmask16 low = first(hd - p * NR), high = first(hd - p * NR - 16);
        for (int t = 0; t < L; t++) {
            const float *from = v + (int64_t)t * row + p * NR;
            float *to = values + ((int64_t)p * L + t) * NR;
            _mm512_storeu_ps(to, _mm512_maskz_loadu_ps(low, from));
            _mm512_storeu_ps(to + 16, _mm512_maskz_loadu_ps(high, from + 16));
        }
    }
}

/* The calling pool thread's attention buffers: kept between calls (a fresh allocation per call cost page faults), a
   few hundred KB at ViT sizes, grown when a larger model comes. */
struct attention_buffers {
    float *keys, *values, *scores, *sums, *outputs;
};

static int attention_buffers(const struct attention_job *j, struct attention_buffers *buffers) {
    int L = j->tokens, hd = j->head_width;
    int key_panels = (L + NR - 1) / NR, Lpad = key_panels * NR, hdpad = (hd + NR - 1) / NR * NR;
    size_t bytes = ((size_t)Lpad * hd + (size_t)hdpad * L + (size_t)MR * Lpad + MR + (size_t)MR * hdpad) * 4 + 5 * 64;
    static __thread char *scratch;
    static __thread size_t scratch_bytes;
    if (bytes > scratch_bytes) {
        free(scratch);
        scratch_bytes = (bytes + 63) / 64 * 64;
        scratch = aligned_alloc(64, scratch_bytes);
        if (!scratch) { scratch_bytes = 0; return 0; } /* out of memory: nothing sensible is left to do here */
    }
    char *at = scratch;
#define OV_TAKE(name, count) buffers->name = (float *)at; at += ((size_t)(count) * 4 + 63) / 64 * 64;
    OV_TAKE(keys, (size_t)Lpad * hd)
    OV_TAKE(values, (size_t)hdpad * L)
    OV_TAKE(scores, (size_t)MR * Lpad)
    OV_TAKE(sums, MR)
    OV_TAKE(outputs, (size_t)MR * hdpad)
#undef OV_TAKE
    return 1;
}

/* Query blocks [first_block, last_block) of one head of one image, its keys and values packed first: per block of 8
   queries, scores, softmax, probabilities · values, the division by the sums. */
__attribute__((target("avx512f")))
static void attention_head(const struct attention_job *j, int64_t head, int first_block, int last_block, const struct attention_buffers *a) {
    int L = j->tokens, hd = j->head_width, H = j->heads;
    int64_t D = (int64_t)H * hd, row = 3 * D;
    int b = (int)(head / H), h = (int)(head % H);
    int key_panels = (L + NR - 1) / NR, Lpad = key_panels * NR;
    int value_panels = (hd + NR - 1) / NR, hdpad = value_panels * NR;
    const float *q = head_queries(j, head);
    pack_head(q + D, q + 2 * D, row, L, hd, a->keys, a->values);
    __m512 scale = _mm512_set1_ps(j->scale);
    for (int block = first_block; block < last_block; block++) {
        int i0 = block * MR, rows = L - i0 < MR ? L - i0 : MR;
        for (int p = 0; p < key_panels; p++)
            tile_plain_rows(q + i0 * row, row, hd, a->keys + (int64_t)p * hd * NR, a->scores + p * NR, Lpad, rows);
        for (int i = 0; i < rows; i++) {
            float *s = a->scores + (int64_t)i * Lpad;
            __m512 top = _mm512_set1_ps(-INFINITY);
            for (int t = 0; t < L; t += 16)
                top = _mm512_max_ps(top, _mm512_mask_mul_ps(_mm512_set1_ps(-INFINITY), first(L - t), _mm512_loadu_ps(s + t), scale));
            __m512 peak = _mm512_set1_ps(_mm512_reduce_max_ps(top)), total = _mm512_setzero_ps();
            for (int t = 0; t < L; t += 16) {
                __mmask16 valid = first(L - t);
                __m512 e = _mm512_maskz_mov_ps(valid, exp_nonpositive(_mm512_sub_ps(_mm512_mul_ps(_mm512_loadu_ps(s + t), scale), peak)));
                total = _mm512_add_ps(total, e);
                _mm512_mask_storeu_ps(s + t, valid, e); /* the probabilities replace the scores */
            }
            a->sums[i] = _mm512_reduce_add_ps(total);
        }
        for (int p = 0; p < value_panels; p++)
            tile_plain_rows(a->scores, Lpad, L, a->values + (int64_t)p * L * NR, a->outputs + p * NR, hdpad, rows);
        for (int i = 0; i < rows; i++) {
            __m512 sum = _mm512_set1_ps(a->sums[i]);
            float *to = j->out + ((int64_t)b * L + i0 + i) * D + (int64_t)h * hd;
            for (int d = 0; d < hd; d += 16)
                _mm512_mask_storeu_ps(to + d, first(hd - d), _mm512_div_ps(_mm512_loadu_ps(a->outputs + (int64_t)i * hdpad + d), sum));
        }
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

/* ---- LayerNorm of float32 rows: the mean, then the mean square of the deviations, (x − mean)·rstd·γ + β. */
struct norm_job {
    const float *x, *gamma, *beta;
    float *y;
    int64_t m;
    int w;
    float eps;
};

__attribute__((target("avx512f")))
static void norm_rows(const struct norm_job *j, int64_t r0, int64_t r1) {
    int w = j->w;
    for (int64_t r = r0; r < r1; r++) {
        const float *x = j->x + r * w;
        __m512 total = _mm512_setzero_ps();
        for (int c = 0; c < w; c += 16) total = _mm512_add_ps(total, _mm512_maskz_loadu_ps(first(w - c), x + c));
        __m512 centre = _mm512_set1_ps(_mm512_reduce_add_ps(total) / w), squares = _mm512_setzero_ps();
        for (int c = 0; c < w; c += 16) {
            __m512 d = _mm512_maskz_sub_ps(first(w - c), _mm512_maskz_loadu_ps(first(w - c), x + c), centre);
            squares = _mm512_fmadd_ps(d, d, squares);
        }
        __m512 rstd = _mm512_set1_ps(1.0f / sqrtf(_mm512_reduce_add_ps(squares) / w + j->eps));
        float *y = j->y + r * w;
        for (int c = 0; c < w; c += 16) {
            __mmask16 valid = first(w - c);
            __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(valid, x + c), centre), rstd);
            v = j->gamma ? _mm512_mul_ps(v, _mm512_maskz_loadu_ps(valid, j->gamma + c)) : v;
            v = j->beta ? _mm512_add_ps(v, _mm512_maskz_loadu_ps(valid, j->beta + c)) : v;
            _mm512_mask_storeu_ps(y + c, valid, v);
        }
    }
}

static void norm_share(void *data) {
    const struct norm_job *j = data;
    int thread = omp_thread_num(), threads = omp_num_threads();
    norm_rows(j, j->m * thread / threads, j->m * (thread + 1) / threads);
}

/* ---- A whole pre-norm transformer block (open_clip's ResidualAttentionBlock with exact GELU, no mask) in one call
   and one parallel region: x1 = x + out(attention(qkv(LN1(x)))), y = x1 + proj(GELU(fc(LN2(x1)))). */
struct ov_f32_block_layers {
    const float *ln1_gamma, *ln1_beta, *ln2_gamma, *ln2_beta; /* [width] or null */
    const float *qkv, *out, *fc, *proj;                         /* packed by ov_f32_pack */
    const float *qkv_bias, *out_bias, *fc_bias, *proj_bias;     /* [rows of the weight] or null */
    int32_t width, hidden, heads;
    float eps, attention_scale; /* the layer norms' epsilon; the scores' scale, 1/√(width / heads) */
};

struct block_job {
    struct norm_job ln1, ln2;
    struct job qkv, out, fc, proj;
    struct attention_job attention;
};

/* The first row of query unit `unit` (image, block of 8 queries), or the end of the rows. */
static int64_t unit_row(int64_t unit, int blocks, int tokens) {
    int64_t block_row = (int64_t)(unit % blocks) * MR;
    return unit / blocks * tokens + (block_row < tokens ? block_row : tokens);
}

/* Each thread takes a run of whole query blocks and carries its rows through the block alone, all columns of every
   layer, so only attention (which reads every row's keys and values) makes it wait for the others. */
static void block_rows(void *data) {
    const struct block_job *b = data;
    int thread = omp_thread_num(), threads = omp_num_threads();
    int tokens = b->attention.tokens, blocks = (tokens + MR - 1) / MR;
    int64_t units = b->attention.heads_total / b->attention.heads * blocks;
    int64_t u0 = units * thread / threads, u1 = units * (thread + 1) / threads;
    int64_t r0 = unit_row(u0, blocks, tokens), r1 = unit_row(u1, blocks, tokens);
    norm_rows(&b->ln1, r0, r1);
    run_range(&b->qkv, r0, r1, 0, panels(&b->qkv));
    gomp_barrier(); /* attention reads every row's keys and values */
    attention_rows(&b->attention, u0, u1);
    run_range(&b->out, r0, r1, 0, panels(&b->out));
    norm_rows(&b->ln2, r0, r1);
    gomp_barrier(); /* c_fc overwrites the keys and values the others may still read */
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

/* Floats of scratch memory ov_f32_block needs for `rows` = batch × tokens. */
int64_t ov_f32_block_scratch(int64_t rows, int width, int hidden) {
    return rows * ((int64_t)width + (hidden > 3 * width ? hidden : 3 * (int64_t)width));
}

/* y [B, L, W] = the block applied to x [B, L, W] (float32, contiguous; y must not overlap x). */
void ov_f32_block(const float *x, int64_t batch, int tokens, const struct ov_f32_block_layers *l, float *scratch, float *y,
                  int threads) {
    int64_t m = batch * tokens;
    int w = l->width;
    float *normed = scratch, *wide = scratch + m * w; /* normed also holds the attention output */
    struct block_job b = {
        .ln1 = {x, l->ln1_gamma, l->ln1_beta, normed, m, w, l->eps},
        .ln2 = {y, l->ln2_gamma, l->ln2_beta, normed, m, w, l->eps},
        .qkv = {normed, l->qkv, l->qkv_bias, 0, 0, wide, m, 3 * w, w},
        .out = {normed, l->out, l->out_bias, 0, x, y, m, w, w},
        .fc = {normed, l->fc, l->fc_bias, 1, 0, wide, m, l->hidden, w},
        /* y is its own residual here: each tile reads its residual before it writes the same elements. */
        .proj = {wide, l->proj, l->proj_bias, 0, y, y, m, w, l->hidden},
        .attention = {wide, normed, batch * l->heads, tokens, l->heads, w / l->heads, l->attention_scale},
    };
    /* Rows per thread where there are enough of them and the block's weights are small enough for every thread to
       read all of them (ViT-Ti 1.8 MB), as in openvision_bf16.c; otherwise each stage is split by columns. Both
       schedules give the same bits. */
    int64_t weight_bytes = 4 * ((int64_t)4 * w * w + (int64_t)2 * w * l->hidden);
    int by_rows = m >= 512 && weight_bytes <= ((int64_t)4 << 20);
    gomp_parallel(by_rows ? block_rows : block_share, &b, threads > 0 ? (unsigned)threads : 0u, 0);
}
