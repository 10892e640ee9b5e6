/*
 * Row loops of the RBM kernels. On x86-64 with GCC or clang each loop is
 * built twice, for the baseline instruction set and for x86-64-v3 (AVX2 and
 * FMA). The loader picks the one the CPU supports, so a portable wheel still
 * runs the wide vectors where they exist.
 */
#include <stdint.h>

#include "ebm_math.h"
#include "ebm_random.h"

#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones) && defined(__linux__)
#define EBM_ROW_KERNEL __attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
#endif
#ifndef EBM_ROW_KERNEL
#define EBM_ROW_KERNEL
#endif

/* out[j] = logistic(pre[j] + bias[j]); pre and out may be the same array. */
EBM_ROW_KERNEL void ebm_logistic_bias_f(const float *pre, const float *bias,
                                       float *out, ptrdiff_t n)
{
    for (ptrdiff_t j = 0; j < n; j++) out[j] = ebm_logistic_f(pre[j] + bias[j]);
}

EBM_ROW_KERNEL void ebm_logistic_bias_d(const double *pre, const double *bias,
                                       double *out, ptrdiff_t n)
{
    for (ptrdiff_t j = 0; j < n; j++) out[j] = ebm_logistic_d(pre[j] + bias[j]);
}

/*
 * One AIS step for the hidden layer of one run: with x_j = pre[j] + c[j],
 * set prob[j] = logistic(beta x_j) and return
 * sum_j softplus(beta x_j) - softplus(previous x_j). The terms go through a
 * local buffer so that the elementwise loop vectorises and the sum stays in
 * index order.
 */
EBM_ROW_KERNEL double ebm_ais_hidden_row_d(const double *pre, const double *c,
                                           double beta, double previous,
                                           double *prob, ptrdiff_t n)
{
    double terms[256];
    double total = 0.0;
    for (ptrdiff_t start = 0; start < n; start += 256) {
        ptrdiff_t count = n - start < 256 ? n - start : 256;
        for (ptrdiff_t j = 0; j < count; j++) {
            double x = pre[start + j] + c[start + j];
            terms[j] = ebm_softplus_d(beta * x) - ebm_softplus_d(previous * x);
            prob[start + j] = ebm_logistic_d(beta * x);
        }
        for (ptrdiff_t j = 0; j < count; j++) total += terms[j];
    }
    return total;
}

/*
 * ebm_ais_hidden_row_d for float32 chains: x_j = pre[j] + c[j] is formed in
 * float and prob[j] = logistic(float(beta) x_j) computed in float, but the
 * returned log-weight terms are computed in double from x_j, because they
 * are differences of nearby values summed over thousands of steps.
 */
EBM_ROW_KERNEL double ebm_ais_hidden_row_f(const float *pre, const float *c,
                                           double beta, double previous,
                                           float *prob, ptrdiff_t n)
{
    double terms[256];
    float xs[256];
    const float beta_f = (float)beta;
    double total = 0.0;
    for (ptrdiff_t start = 0; start < n; start += 256) {
        ptrdiff_t count = n - start < 256 ? n - start : 256;
        for (ptrdiff_t j = 0; j < count; j++) {
            float x = pre[start + j] + c[start + j];
            double xd = (double)x;
            xs[j] = x;
            terms[j] = ebm_softplus_d(beta * xd) - ebm_softplus_d(previous * xd);
        }
        for (ptrdiff_t j = 0; j < count; j++) prob[start + j] = ebm_logistic_f(beta_f * xs[j]);
        for (ptrdiff_t j = 0; j < count; j++) total += terms[j];
    }
    return total;
}

/*
 * Bernoulli draws: out[j] = 1 if u_j < prob[j], else 0, with u_j the
 * uniform numbers of ebm_random.h in the same order. The 64-bit draws are
 * taken in chunks into a local buffer first, so that the conversion and
 * comparison loop has no dependency chain and vectorises.
 */
#define EBM_DRAW_CHUNK 128

EBM_ROW_KERNEL void ebm_sample_bernoulli_f(uint64_t *stream, const float *prob,
                                           float *out, ptrdiff_t n)
{
    const float scale = 1.0f / 16777216.0f;
    uint64_t raw[EBM_DRAW_CHUNK];
    for (ptrdiff_t start = 0; start < n; start += 2 * EBM_DRAW_CHUNK) {
        ptrdiff_t count = n - start < 2 * EBM_DRAW_CHUNK ? n - start : 2 * EBM_DRAW_CHUNK;
        ptrdiff_t n_draws = (count + 1) / 2;
        for (ptrdiff_t i = 0; i < n_draws; i++) raw[i] = ebm_next_uint64(stream);
        const float *p = prob + start;
        float *s = out + start;
        ptrdiff_t n_pairs = count / 2;
        for (ptrdiff_t i = 0; i < n_pairs; i++) {
            float low = (float)((uint32_t)(raw[i] & 0xffffffffu) >> 8) * scale;
            float high = (float)(uint32_t)(raw[i] >> 40) * scale;
            s[2 * i] = low < p[2 * i] ? 1.0f : 0.0f;
            s[2 * i + 1] = high < p[2 * i + 1] ? 1.0f : 0.0f;
        }
        if (count & 1) {
            float low = (float)((uint32_t)(raw[n_pairs] & 0xffffffffu) >> 8) * scale;
            s[count - 1] = low < p[count - 1] ? 1.0f : 0.0f;
        }
    }
}

EBM_ROW_KERNEL void ebm_sample_bernoulli_d(uint64_t *stream, const double *prob,
                                           double *out, ptrdiff_t n)
{
    const double scale = 1.0 / 9007199254740992.0;
    uint64_t raw[EBM_DRAW_CHUNK];
    for (ptrdiff_t start = 0; start < n; start += EBM_DRAW_CHUNK) {
        ptrdiff_t count = n - start < EBM_DRAW_CHUNK ? n - start : EBM_DRAW_CHUNK;
        for (ptrdiff_t i = 0; i < count; i++) raw[i] = ebm_next_uint64(stream);
        for (ptrdiff_t i = 0; i < count; i++) {
            double u = (double)(raw[i] >> 11) * scale;
            out[start + i] = u < prob[start + i] ? 1.0 : 0.0;
        }
    }
}

/*
 * Bernoulli draws for 4 consecutive rows at once, each from its own stream
 * (streams + 4 * r), with the same results as 4 calls of the one-row
 * versions. The 4 generators advance in lockstep, which gives the CPU 4
 * independent dependency chains, or one 4-lane AVX2 vector.
 */
#define EBM_GROUP 4

static inline void ebm_draw_group(uint64_t *streams, uint64_t raw[EBM_GROUP][EBM_DRAW_CHUNK],
                                  ptrdiff_t n_draws)
{
    uint64_t a[EBM_GROUP], b[EBM_GROUP], c[EBM_GROUP], w[EBM_GROUP];
    for (int r = 0; r < EBM_GROUP; r++) {
        a[r] = streams[EBM_STREAM_WORDS * r];
        b[r] = streams[EBM_STREAM_WORDS * r + 1];
        c[r] = streams[EBM_STREAM_WORDS * r + 2];
        w[r] = streams[EBM_STREAM_WORDS * r + 3];
    }
    for (ptrdiff_t i = 0; i < n_draws; i++) {
        for (int r = 0; r < EBM_GROUP; r++) {
            uint64_t result = a[r] + b[r] + w[r];
            w[r] += 1;
            a[r] = b[r] ^ (b[r] >> 11);
            b[r] = c[r] + (c[r] << 3);
            c[r] = ((c[r] << 24) | (c[r] >> 40)) + result;
            raw[r][i] = result;
        }
    }
    for (int r = 0; r < EBM_GROUP; r++) {
        streams[EBM_STREAM_WORDS * r] = a[r];
        streams[EBM_STREAM_WORDS * r + 1] = b[r];
        streams[EBM_STREAM_WORDS * r + 2] = c[r];
        streams[EBM_STREAM_WORDS * r + 3] = w[r];
    }
}

EBM_ROW_KERNEL void ebm_sample_bernoulli_group_f(uint64_t *streams, const float *prob,
                                                 float *out, ptrdiff_t n)
{
    const float scale = 1.0f / 16777216.0f;
    uint64_t raw[EBM_GROUP][EBM_DRAW_CHUNK];
    for (ptrdiff_t start = 0; start < n; start += 2 * EBM_DRAW_CHUNK) {
        ptrdiff_t count = n - start < 2 * EBM_DRAW_CHUNK ? n - start : 2 * EBM_DRAW_CHUNK;
        ebm_draw_group(streams, raw, (count + 1) / 2);
        ptrdiff_t n_pairs = count / 2;
        for (int r = 0; r < EBM_GROUP; r++) {
            const float *p = prob + r * n + start;
            float *s = out + r * n + start;
            const uint64_t *row_raw = raw[r];
            for (ptrdiff_t i = 0; i < n_pairs; i++) {
                float low = (float)((uint32_t)(row_raw[i] & 0xffffffffu) >> 8) * scale;
                float high = (float)(uint32_t)(row_raw[i] >> 40) * scale;
                s[2 * i] = low < p[2 * i] ? 1.0f : 0.0f;
                s[2 * i + 1] = high < p[2 * i + 1] ? 1.0f : 0.0f;
            }
            if (count & 1) {
                float low = (float)((uint32_t)(row_raw[n_pairs] & 0xffffffffu) >> 8) * scale;
                s[count - 1] = low < p[count - 1] ? 1.0f : 0.0f;
            }
        }
    }
}

EBM_ROW_KERNEL void ebm_sample_bernoulli_group_d(uint64_t *streams, const double *prob,
                                                 double *out, ptrdiff_t n)
{
    const double scale = 1.0 / 9007199254740992.0;
    uint64_t raw[EBM_GROUP][EBM_DRAW_CHUNK];
    for (ptrdiff_t start = 0; start < n; start += EBM_DRAW_CHUNK) {
        ptrdiff_t count = n - start < EBM_DRAW_CHUNK ? n - start : EBM_DRAW_CHUNK;
        ebm_draw_group(streams, raw, count);
        for (int r = 0; r < EBM_GROUP; r++) {
            const double *p = prob + r * n + start;
            double *s = out + r * n + start;
            for (ptrdiff_t i = 0; i < count; i++) {
                double u = (double)(raw[r][i] >> 11) * scale;
                s[i] = u < p[i] ? 1.0 : 0.0;
            }
        }
    }
}
