/*
 * Branch-free logistic and softplus that GCC vectorises at -O3 without
 * -ffast-math, so NaN checks elsewhere stay reliable.
 *
 * exp(x) for x <= 0 is computed as 2^n * exp(r) with n = round(x / ln 2) and
 * |r| <= ln(2) / 2, exp(r) by its Taylor series (degree 7 for float, relative
 * error below 1e-8; degree 13 for double, below 1e-16) and 2^n built in the
 * exponent bits. Arguments are clamped to [-87, 0] (float) or [-708, 0]
 * (double), so the result is a normal number and never overflows.
 *
 * logistic(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0, with
 * e = exp(-|x|) <= 1: finite and in [0, 1] for every finite x, including
 * pre-activations of +-1000.
 */
#ifndef EBM_MATH_H
#define EBM_MATH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline float ebm_exp_nonpos_f(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 0.0f ? 0.0f : x;
    /* Adding 1.5 * 2^23 rounds x / ln 2 to the nearest integer n in the
     * default rounding mode and leaves n in the low bits of the sum, which
     * vectorises where nearbyintf and float-to-int conversion may not. */
    float shifted = x * 1.44269504088896341f + 12582912.0f;
    float n = shifted - 12582912.0f;
    int32_t n_bits;
    memcpy(&n_bits, &shifted, sizeof n_bits);
    n_bits -= 0x4B400000; /* the bits of 1.5 * 2^23 */
    /* ln 2 split in two parts so that n * ln2_hi is exact in float. */
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = (n_bits + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline double ebm_exp_nonpos_d(double x)
{
    x = x < -708.0 ? -708.0 : x;
    x = x > 0.0 ? 0.0 : x;
    double shifted = x * 1.4426950408889634074 + 6755399441055744.0;
    double n = shifted - 6755399441055744.0;
    int64_t n_bits;
    memcpy(&n_bits, &shifted, sizeof n_bits);
    n_bits -= 0x4338000000000000LL; /* the bits of 1.5 * 2^52 */
    double r = x - n * 6.93145751953125e-1;
    r = r - n * 1.42860682030941723212e-6;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t bits = (n_bits + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float ebm_logistic_f(float x)
{
    float e = ebm_exp_nonpos_f(-fabsf(x));
    float inv = 1.0f / (1.0f + e);
    return x >= 0.0f ? inv : e * inv;
}

static inline double ebm_logistic_d(double x)
{
    double e = ebm_exp_nonpos_d(-fabs(x));
    double inv = 1.0 / (1.0 + e);
    return x >= 0.0 ? inv : e * inv;
}

/* Row loops, defined in ebm_rows.c with one build per instruction set. */
void ebm_logistic_bias_f(const float *pre, const float *bias, float *out, ptrdiff_t n);
void ebm_logistic_bias_d(const double *pre, const double *bias, double *out, ptrdiff_t n);
double ebm_ais_hidden_row_d(const double *pre, const double *c, double beta,
                            double previous, double *prob, ptrdiff_t n);
double ebm_ais_hidden_row_f(const float *pre, const float *c, double beta,
                            double previous, float *prob, ptrdiff_t n);

/* log(1 + e) for e in [0, 1], as 2 atanh(s) with s = e / (2 + e) <= 1/3,
 * summed to s^31 (truncation error below 1e-16 relative). Unlike log(1 + e)
 * it keeps full precision for tiny e, and it vectorises. */
static inline double ebm_log1p_unit_d(double e)
{
    double s = e / (2.0 + e);
    double s2 = s * s;
    double p = 1.0 / 31.0;
    for (int k = 29; k >= 1; k -= 2) p = p * s2 + 1.0 / (double)k;
    return 2.0 * s * p;
}

/* softplus(x) = log(1 + exp(x)) = max(x, 0) + log(1 + exp(-|x|)). */
static inline double ebm_softplus_d(double x)
{
    return (x > 0.0 ? x : 0.0) + ebm_log1p_unit_d(ebm_exp_nonpos_d(-fabs(x)));
}

#endif
