/*
 * Per-chain random streams: SFC64 generators whose states are rows of a
 * (n_chains, 4) uint64 array, advanced inline in nogil code. The algorithm
 * and state layout (a, b, c, counter) are those of numpy.random.SFC64, so the
 * NumPy reference replays every draw exactly by loading a row into an SFC64
 * object and calling random_raw.
 *
 * Uniform numbers in [0, 1) from the 64-bit draws r:
 *   float64: u = (r >> 11) * 2^-53, one draw per number.
 *   float32: each draw gives two numbers, first ((r & 0xffffffff) >> 8) *
 *            2^-24, then (r >> 40) * 2^-24. For an odd count the second
 *            half of the last draw is dropped.
 * A fill of n numbers always consumes the same number of draws, so a
 * stream's position depends only on what was drawn from it, never on the
 * thread that drew it.
 *
 * SFC64 is Chris Doty-Humphrey's "small fast chaotic" generator from
 * PractRand; every seed starts a cycle of length at least 2^64.
 */
#ifndef EBM_RANDOM_H
#define EBM_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#define EBM_STREAM_WORDS 4

static inline uint64_t ebm_next_uint64(uint64_t *state)
{
    uint64_t a = state[0], b = state[1], c = state[2];
    uint64_t result = a + b + state[3];
    state[3] += 1;
    state[0] = b ^ (b >> 11);
    state[1] = c + (c << 3);
    state[2] = ((c << 24) | (c >> 40)) + result;
    return result;
}

/* Bernoulli draws state[j] = (u_j < prob[j]) with the uniform numbers above,
 * in the same order; defined in ebm_rows.c. */
void ebm_sample_bernoulli_f(uint64_t *stream, const float *prob, float *out, ptrdiff_t n);
void ebm_sample_bernoulli_d(uint64_t *stream, const double *prob, double *out, ptrdiff_t n);

/* The same for 4 consecutive rows of length n (row r from streams + 4 r),
 * with results identical to 4 one-row calls. */
void ebm_sample_bernoulli_group_f(uint64_t *streams, const float *prob, float *out, ptrdiff_t n);
void ebm_sample_bernoulli_group_d(uint64_t *streams, const double *prob, double *out, ptrdiff_t n);

#endif
