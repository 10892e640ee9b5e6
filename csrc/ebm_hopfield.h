/*
 * Row passes of the modern Hopfield kernels: the blocked (online) softmax
 * and the nearest-pattern search. One call handles the scores of one query
 * against one block of stored patterns.
 *
 * Reductions use 8 fixed lanes, so the summation order depends only on the
 * block length. Results therefore do not depend on threads, and the loops
 * vectorise without -ffast-math. The functions are built for the baseline
 * instruction set and for x86-64-v3 (AVX2 and FMA) where the compiler
 * supports target_clones, like the row loops in ebm_rows.c.
 */
#ifndef EBM_HOPFIELD_H
#define EBM_HOPFIELD_H

#include <math.h>
#include <stddef.h>

#include "ebm_math.h"

#if defined(__x86_64__) && defined(__has_attribute) && defined(__linux__)
#if __has_attribute(target_clones)
#define EBM_HOPFIELD_KERNEL __attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
#endif
#ifndef EBM_HOPFIELD_KERNEL
#define EBM_HOPFIELD_KERNEL
#endif

#define EBM_LANES 8

/*
 * Fold one block of scores z into a query's running maximum m and running
 * sum s = sum_i exp(z_i - m), both in double precision:
 *
 *     m' = max(m, max_j z_j)
 *     s' = s exp(m - m') + sum_j exp(z_j - m')
 *
 * z is overwritten by exp(z_j - m'), the unnormalised weights that the
 * caller multiplies with the block's values. The return value exp(m - m')
 * is the factor by which the caller rescales what it accumulated for
 * earlier blocks. Every exponent is <= 0, so nothing overflows. exp of an
 * argument below -87 (float) or -708 (double) returns exp(-87) or exp(-708)
 * instead of 0 (see ebm_math.h), an absolute error below 2e-38 per weight.
 */
EBM_HOPFIELD_KERNEL static double ebm_softmax_block_f(float *z, ptrdiff_t n,
                                                     double *row_max, double *row_sum)
{
    float lane[EBM_LANES];
    float block_max = -INFINITY;
    ptrdiff_t j = 0, k;
    for (k = 0; k < EBM_LANES; k++) lane[k] = -INFINITY;
    for (; j + EBM_LANES <= n; j += EBM_LANES)
        for (k = 0; k < EBM_LANES; k++)
            lane[k] = z[j + k] > lane[k] ? z[j + k] : lane[k];
    for (; j < n; j++) block_max = z[j] > block_max ? z[j] : block_max;
    for (k = 0; k < EBM_LANES; k++) block_max = lane[k] > block_max ? lane[k] : block_max;

    double new_max = *row_max > (double)block_max ? *row_max : (double)block_max;
    /* The first block has row_max = -inf and row_sum = 0, so the factor
     * only has to be finite there, not exact. */
    double rescale = ebm_exp_nonpos_d(*row_max - new_max);
    float shift = (float)new_max; /* exact: every maximum is a float score */

    for (j = 0; j < n; j++) z[j] = ebm_exp_nonpos_f(z[j] - shift);

    float partial[EBM_LANES] = {0};
    float tail = 0.0f;
    for (j = 0; j + EBM_LANES <= n; j += EBM_LANES)
        for (k = 0; k < EBM_LANES; k++) partial[k] += z[j + k];
    for (; j < n; j++) tail += z[j];
    double block_sum = tail;
    for (k = 0; k < EBM_LANES; k++) block_sum += partial[k];

    *row_sum = *row_sum * rescale + block_sum;
    *row_max = new_max;
    return rescale;
}

EBM_HOPFIELD_KERNEL static double ebm_softmax_block_d(double *z, ptrdiff_t n,
                                                     double *row_max, double *row_sum)
{
    double lane[EBM_LANES];
    double block_max = -INFINITY;
    ptrdiff_t j = 0, k;
    for (k = 0; k < EBM_LANES; k++) lane[k] = -INFINITY;
    for (; j + EBM_LANES <= n; j += EBM_LANES)
        for (k = 0; k < EBM_LANES; k++)
            lane[k] = z[j + k] > lane[k] ? z[j + k] : lane[k];
    for (; j < n; j++) block_max = z[j] > block_max ? z[j] : block_max;
    for (k = 0; k < EBM_LANES; k++) block_max = lane[k] > block_max ? lane[k] : block_max;

    double new_max = *row_max > block_max ? *row_max : block_max;
    double rescale = ebm_exp_nonpos_d(*row_max - new_max);

    double partial[EBM_LANES] = {0};
    double tail = 0.0;
    for (j = 0; j + EBM_LANES <= n; j += EBM_LANES)
        for (k = 0; k < EBM_LANES; k++) {
            double weight = ebm_exp_nonpos_d(z[j + k] - new_max);
            z[j + k] = weight;
            partial[k] += weight;
        }
    for (; j < n; j++) {
        z[j] = ebm_exp_nonpos_d(z[j] - new_max);
        tail += z[j];
    }
    double block_sum = tail;
    for (k = 0; k < EBM_LANES; k++) block_sum += partial[k];

    *row_sum = *row_sum * rescale + block_sum;
    *row_max = new_max;
    return rescale;
}

/*
 * Nearest stored pattern by Euclidean distance. With s_j = x_j^T q and
 * h_j = |x_j|^2 / 2, |x_j - q|^2 / 2 = h_j - s_j + |q|^2 / 2, so the nearest
 * pattern minimises h_j - s_j. The scores s are overwritten by h_j - s_j.
 * *best and *index carry the running minimum across blocks, and ties keep
 * the lowest index. offset is the pattern index of s[0].
 */
EBM_HOPFIELD_KERNEL static void ebm_nearest_block_f(float *s, const float *half_norm,
                                                   ptrdiff_t n, ptrdiff_t offset,
                                                   double *best, ptrdiff_t *index)
{
    float lane[EBM_LANES];
    float block_min = INFINITY;
    ptrdiff_t j, k;
    for (j = 0; j < n; j++) s[j] = half_norm[j] - s[j];
    for (k = 0; k < EBM_LANES; k++) lane[k] = INFINITY;
    for (j = 0; j + EBM_LANES <= n; j += EBM_LANES)
        for (k = 0; k < EBM_LANES; k++)
            lane[k] = s[j + k] < lane[k] ? s[j + k] : lane[k];
    for (; j < n; j++) block_min = s[j] < block_min ? s[j] : block_min;
    for (k = 0; k < EBM_LANES; k++) block_min = lane[k] < block_min ? lane[k] : block_min;
    if ((double)block_min < *best) {
        j = 0;
        while (s[j] != block_min) j++;
        *best = block_min;
        *index = offset + j;
    }
}

EBM_HOPFIELD_KERNEL static void ebm_nearest_block_d(double *s, const double *half_norm,
                                                   ptrdiff_t n, ptrdiff_t offset,
                                                   double *best, ptrdiff_t *index)
{
    double lane[EBM_LANES];
    double block_min = INFINITY;
    ptrdiff_t j, k;
    for (j = 0; j < n; j++) s[j] = half_norm[j] - s[j];
    for (k = 0; k < EBM_LANES; k++) lane[k] = INFINITY;
    for (j = 0; j + EBM_LANES <= n; j += EBM_LANES)
        for (k = 0; k < EBM_LANES; k++)
            lane[k] = s[j + k] < lane[k] ? s[j + k] : lane[k];
    for (; j < n; j++) block_min = s[j] < block_min ? s[j] : block_min;
    for (k = 0; k < EBM_LANES; k++) block_min = lane[k] < block_min ? lane[k] : block_min;
    if (block_min < *best) {
        j = 0;
        while (s[j] != block_min) j++;
        *best = block_min;
        *index = offset + j;
    }
}

#endif
