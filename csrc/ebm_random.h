/*
 * Uniform numbers from one numpy bit generator, in a fixed documented scheme
 * that the NumPy reference replays from BitGenerator.random_raw:
 *
 *   float64: u = (r >> 11) * 2^-53, one 64-bit draw r per number.
 *   float32: each 64-bit draw r gives two numbers, first
 *            ((r & 0xffffffff) >> 8) * 2^-24, then (r >> 40) * 2^-24.
 *            For an odd count the second half of the last draw is dropped.
 *
 * Every number lies in [0, 1). A fill of n numbers always consumes the same
 * count of 64-bit draws, so a stream's position depends only on what was
 * drawn from it, never on the thread that drew it.
 */
#ifndef EBM_RANDOM_H
#define EBM_RANDOM_H

#include <stddef.h>
#include <stdint.h>
#include "numpy/random/bitgen.h"

static inline void ebm_uniform_fill_f(bitgen_t *bitgen, float *out, ptrdiff_t n)
{
    const float scale = 1.0f / 16777216.0f; /* 2^-24 */
    ptrdiff_t i = 0;
    for (; i + 1 < n; i += 2) {
        uint64_t r = bitgen->next_uint64(bitgen->state);
        out[i] = (float)((uint32_t)(r & 0xffffffffu) >> 8) * scale;
        out[i + 1] = (float)(uint32_t)(r >> 40) * scale;
    }
    if (i < n) {
        uint64_t r = bitgen->next_uint64(bitgen->state);
        out[i] = (float)((uint32_t)(r & 0xffffffffu) >> 8) * scale;
    }
}

static inline void ebm_uniform_fill_d(bitgen_t *bitgen, double *out, ptrdiff_t n)
{
    const double scale = 1.0 / 9007199254740992.0; /* 2^-53 */
    for (ptrdiff_t i = 0; i < n; i++) {
        out[i] = (double)(bitgen->next_uint64(bitgen->state) >> 11) * scale;
    }
}

/* Bernoulli draws from the uniform numbers above; defined in ebm_rows.c. */
void ebm_sample_bernoulli_f(bitgen_t *bitgen, const float *prob, float *state, ptrdiff_t n);
void ebm_sample_bernoulli_d(bitgen_t *bitgen, const double *prob, double *state, ptrdiff_t n);

#endif
