/*
 * Standard normal numbers from the SFC64 streams of ebm_random.h, by the
 * Box-Muller transform written with +, -, *, / and sqrt only, so that the
 * NumPy reference (src/ebmfast/_normal_reference.py) replays every number
 * bit for bit: those operations are correctly rounded in IEEE arithmetic on
 * both sides, and the builds here use -ffp-contract=off.
 *
 * Each 64-bit draw r gives two normals, computed in double precision:
 *   hi = r >> 32, lo = r & 0xffffffff
 *   u = (hi + 1) * 2^-32                 in (0, 1]
 *   radius = sqrt(-2 log(u))
 *   q = lo >> 30                         quadrant, 0..3
 *   phi = ((lo & 0x3fffffff) + 0.5) * 2^-30 * pi/2 - pi/4, in (-pi/4, pi/4)
 *   angle = q pi/2 + phi, uniform on the circle
 *   z0 = radius cos(angle), z1 = radius sin(angle)
 * A fill of n numbers takes ceil(n / 2) draws and stores z0, z1, z0, z1, ...;
 * for an odd n the z1 of the last draw is dropped.
 *
 * float32 fills follow the same steps in float arithmetic, with fewer bits,
 * so that eight pairs fit in one AVX2 register (see the float32 section).
 *
 * log is evaluated as e ln 2 + 2 atanh(s) with u = m 2^e,
 * m in [sqrt(1/2), sqrt(2)) and s = (m - 1) / (m + 1), the atanh series
 * summed to s^23. sin and cos of phi use their Taylor series to phi^17 and
 * phi^16. Both are accurate to a few units in the last place of a double.
 * Because u has 32 bits, |z| never exceeds sqrt(64 ln 2) = 6.66; the
 * normal distribution puts probability 2.7e-11 beyond that.
 */
#ifndef EBM_NORMAL_H
#define EBM_NORMAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ebm_random.h"

#if defined(__x86_64__) && defined(__has_attribute) && defined(__linux__)
#if __has_attribute(target_clones)
#define EBM_NORMAL_KERNEL __attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
#endif
#ifndef EBM_NORMAL_KERNEL
#define EBM_NORMAL_KERNEL
#endif

#define EBM_NORMAL_CHUNK 64

/* An integer below 2^52 as a double, exactly; unlike a cast from uint64_t
 * this vectorises without AVX-512. */
static inline double ebm_small_uint_to_double(uint64_t k)
{
    uint64_t bits = k | 0x4330000000000000ULL; /* 2^52 + k */
    double x;
    memcpy(&x, &bits, sizeof x);
    return x - 4503599627370496.0;
}

/* log(u) for u in (0, 1], a normal double. */
static inline double ebm_normal_log_unit(double u)
{
    uint64_t bits;
    memcpy(&bits, &u, sizeof bits);
    double exponent = ebm_small_uint_to_double(bits >> 52) - 1023.0;
    uint64_t mantissa_bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
    double m;
    memcpy(&m, &mantissa_bits, sizeof m);
    /* Move m from [1, 2) to [sqrt(1/2), sqrt(2)) so that |s| <= 0.172. */
    double big = m > 1.4142135623730951 ? 1.0 : 0.0;
    m = m * (1.0 - 0.5 * big);
    exponent = exponent + big;
    double s = (m - 1.0) / (m + 1.0);
    double s2 = s * s;
    double p = 1.0 / 23.0;
    p = p * s2 + 1.0 / 21.0;
    p = p * s2 + 1.0 / 19.0;
    p = p * s2 + 1.0 / 17.0;
    p = p * s2 + 1.0 / 15.0;
    p = p * s2 + 1.0 / 13.0;
    p = p * s2 + 1.0 / 11.0;
    p = p * s2 + 1.0 / 9.0;
    p = p * s2 + 1.0 / 7.0;
    p = p * s2 + 1.0 / 5.0;
    p = p * s2 + 1.0 / 3.0;
    p = p * s2 + 1.0;
    /* ln 2 in two parts: exponent * 0.693145751953125 is exact. */
    return exponent * 0.693145751953125 + (exponent * 1.4286068203094173e-06 + 2.0 * s * p);
}

/* The two normals of one 64-bit draw. */
static inline void ebm_normal_pair(uint64_t r, double *z0, double *z1)
{
    double hi = ebm_small_uint_to_double(r >> 32);
    uint64_t lo = r & 0xffffffffULL;
    double u = (hi + 1.0) * 2.3283064365386963e-10; /* 2^-32 */
    double radius = sqrt(-2.0 * ebm_normal_log_unit(u));

    double quadrant = ebm_small_uint_to_double(lo >> 30);
    double v = (ebm_small_uint_to_double(lo & 0x3fffffffULL) + 0.5) * 9.313225746154785e-10; /* 2^-30 */
    double phi = v * 1.5707963267948966 - 0.7853981633974483;
    double phi2 = phi * phi;
    double sin_p = 1.0 / 355687428096000.0;          /* 1/17! */
    sin_p = sin_p * phi2 - 1.0 / 1307674368000.0;    /* 1/15! */
    sin_p = sin_p * phi2 + 1.0 / 6227020800.0;       /* 1/13! */
    sin_p = sin_p * phi2 - 1.0 / 39916800.0;
    sin_p = sin_p * phi2 + 1.0 / 362880.0;
    sin_p = sin_p * phi2 - 1.0 / 5040.0;
    sin_p = sin_p * phi2 + 1.0 / 120.0;
    sin_p = sin_p * phi2 - 1.0 / 6.0;
    sin_p = sin_p * phi2 + 1.0;
    double sin_phi = sin_p * phi;
    double cos_p = 1.0 / 20922789888000.0;           /* 1/16! */
    cos_p = cos_p * phi2 - 1.0 / 87178291200.0;      /* 1/14! */
    cos_p = cos_p * phi2 + 1.0 / 479001600.0;        /* 1/12! */
    cos_p = cos_p * phi2 - 1.0 / 3628800.0;
    cos_p = cos_p * phi2 + 1.0 / 40320.0;
    cos_p = cos_p * phi2 - 1.0 / 720.0;
    cos_p = cos_p * phi2 + 1.0 / 24.0;
    cos_p = cos_p * phi2 - 0.5;
    double cos_phi = cos_p * phi2 + 1.0;

    /* Rotate by q quarter turns: (c, s) -> (-s, c) -> (-c, -s) -> (s, -c). */
    double odd = (quadrant == 1.0 || quadrant == 3.0) ? 1.0 : 0.0;
    double cos_sign = (quadrant == 1.0 || quadrant == 2.0) ? -1.0 : 1.0;
    double sin_sign = quadrant >= 2.0 ? -1.0 : 1.0;
    double c = odd == 1.0 ? sin_phi : cos_phi;
    double s = odd == 1.0 ? cos_phi : sin_phi;
    *z0 = radius * (cos_sign * c);
    *z1 = radius * (sin_sign * s);
}

/* Fill out[0..n) with standard normals from one stream; see the top of this file. */
EBM_NORMAL_KERNEL static void ebm_normal_fill_d(uint64_t *stream, double *out, ptrdiff_t n)
{
    uint64_t raw[EBM_NORMAL_CHUNK];
    double pairs[2 * EBM_NORMAL_CHUNK];
    for (ptrdiff_t start = 0; start < n; start += 2 * EBM_NORMAL_CHUNK) {
        ptrdiff_t count = n - start < 2 * EBM_NORMAL_CHUNK ? n - start : 2 * EBM_NORMAL_CHUNK;
        ptrdiff_t n_draws = (count + 1) / 2;
        for (ptrdiff_t i = 0; i < n_draws; i++) raw[i] = ebm_next_uint64(stream);
        for (ptrdiff_t i = 0; i < n_draws; i++)
            ebm_normal_pair(raw[i], &pairs[2 * i], &pairs[2 * i + 1]);
        memcpy(out + start, pairs, (size_t)count * sizeof(double));
    }
}

/* ---------------------------------------------------------------------------
 * float32 normals. Each 64-bit draw r gives two, with every step in float:
 *   k = r >> 33 (31 bits), u = (float(k) + 0.5) * 2^-31, in (0, 1]
 *   radius = sqrt(-2 log(u))
 *   q = (r & 0xffffffff) >> 30, quadrant 0..3
 *   a = (r >> 7) & 0x7fffff (23 bits), phi = (a + 0.5) * (pi/2 * 2^-23) - pi/4
 *   z0 = radius cos(q pi/2 + phi), z1 = radius sin(q pi/2 + phi)
 * float(k) rounds to nearest, so u is exact near 0, where the tail is made,
 * and |z| stays below sqrt(64 ln 2) = 6.66 as in the double scheme.
 * log(u) is e ln 2 + 2 atanh(s) with the atanh series to s^9, sin(phi) and
 * cos(phi) are Taylor series to phi^11 and phi^10: each is accurate to about
 * one unit in the last place of a float. The constants 1/k are float
 * divisions, correctly rounded.
 */

/* log(u) for u in (0, 1], a normal float. */
static inline float ebm_normal_log_unit_f(float u)
{
    int32_t bits;
    memcpy(&bits, &u, sizeof bits);
    float exponent = (float)((bits >> 23) - 127);
    int32_t mantissa_bits = (bits & 0x007fffff) | 0x3f800000;
    float m;
    memcpy(&m, &mantissa_bits, sizeof m);
    float big = m > 1.41421356f ? 1.0f : 0.0f;
    m = m * (1.0f - 0.5f * big);
    exponent = exponent + big;
    float s = (m - 1.0f) / (m + 1.0f);
    float s2 = s * s;
    float p = 1.0f / 9.0f;
    p = p * s2 + 1.0f / 7.0f;
    p = p * s2 + 1.0f / 5.0f;
    p = p * s2 + 1.0f / 3.0f;
    p = p * s2 + 1.0f;
    /* ln 2 = 0.693359375 - 2.12194440e-4; the first product is exact. */
    return exponent * 0.693359375f + (exponent * -2.12194440e-4f + 2.0f * s * p);
}

/* The two float normals of one 64-bit draw. */
static inline void ebm_normal_pair_f(uint64_t r, float *z0, float *z1)
{
    float u = ((float)(int32_t)(r >> 33) + 0.5f) * 4.65661287e-10f; /* 2^-31 */
    float radius = sqrtf(-2.0f * ebm_normal_log_unit_f(u));

    uint32_t lo = (uint32_t)r;
    float quadrant = (float)(int32_t)(lo >> 30);
    float v = (float)(int32_t)((lo >> 7) & 0x7fffffu) + 0.5f;
    /* pi/2 as a float times 2^-23, exact; then pi/4 as a float. */
    float phi = v * 1.87253519e-7f - 0.785398163f;
    float phi2 = phi * phi;
    float sin_p = -1.0f / 39916800.0f;
    sin_p = sin_p * phi2 + 1.0f / 362880.0f;
    sin_p = sin_p * phi2 - 1.0f / 5040.0f;
    sin_p = sin_p * phi2 + 1.0f / 120.0f;
    sin_p = sin_p * phi2 - 1.0f / 6.0f;
    sin_p = sin_p * phi2 + 1.0f;
    float sin_phi = sin_p * phi;
    float cos_p = -1.0f / 3628800.0f;
    cos_p = cos_p * phi2 + 1.0f / 40320.0f;
    cos_p = cos_p * phi2 - 1.0f / 720.0f;
    cos_p = cos_p * phi2 + 1.0f / 24.0f;
    cos_p = cos_p * phi2 - 0.5f;
    float cos_phi = cos_p * phi2 + 1.0f;

    /* Rotate by q quarter turns, as ebm_normal_pair. */
    float odd = (quadrant == 1.0f || quadrant == 3.0f) ? 1.0f : 0.0f;
    float cos_sign = (quadrant == 1.0f || quadrant == 2.0f) ? -1.0f : 1.0f;
    float sin_sign = quadrant >= 2.0f ? -1.0f : 1.0f;
    float c = odd == 1.0f ? sin_phi : cos_phi;
    float s = odd == 1.0f ? cos_phi : sin_phi;
    *z0 = radius * (cos_sign * c);
    *z1 = radius * (sin_sign * s);
}

/* Fill out[0..n) with float standard normals from one stream. */
EBM_NORMAL_KERNEL static void ebm_normal_fill_f(uint64_t *stream, float *out, ptrdiff_t n)
{
    uint64_t raw[EBM_NORMAL_CHUNK];
    float z0[EBM_NORMAL_CHUNK], z1[EBM_NORMAL_CHUNK];
    for (ptrdiff_t start = 0; start < n; start += 2 * EBM_NORMAL_CHUNK) {
        ptrdiff_t count = n - start < 2 * EBM_NORMAL_CHUNK ? n - start : 2 * EBM_NORMAL_CHUNK;
        ptrdiff_t n_draws = (count + 1) / 2;
        for (ptrdiff_t i = 0; i < n_draws; i++) raw[i] = ebm_next_uint64(stream);
        /* Whole groups of 8 pairs, so that no pair takes the slow scalar
         * path; the pairs of the zero padding are computed and ignored. */
        const ptrdiff_t n_groups = (n_draws + 7) / 8;
        for (ptrdiff_t i = n_draws; i < 8 * n_groups; i++) raw[i] = 0;
        for (ptrdiff_t group = 0; group < n_groups; group++)
            for (int k = 0; k < 8; k++)
                ebm_normal_pair_f(raw[8 * group + k], &z0[8 * group + k], &z1[8 * group + k]);
        for (ptrdiff_t i = 0; i < count / 2; i++) {
            out[start + 2 * i] = z0[i];
            out[start + 2 * i + 1] = z1[i];
        }
        if (count % 2) out[start + count - 1] = z0[n_draws - 1];
    }
}

/* One uniform number in [0, 1) from one 64-bit draw, as the float64 scheme
 * of ebm_random.h: (r >> 11) * 2^-53. */
static inline double ebm_uniform_d(uint64_t *stream)
{
    return (double)(ebm_next_uint64(stream) >> 11) * 1.1102230246251565e-16;
}

#endif
