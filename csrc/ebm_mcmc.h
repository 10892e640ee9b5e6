/*
 * Per-chain MCMC kernels: built-in potentials, a compiled callback target,
 * and the HMC (also MALA and ULA) and random-walk Metropolis transitions of
 * one chain. The NumPy specification is src/ebmfast/mcmc/_reference.py (the
 * transitions) and src/ebmfast/mcmc/_potentials.py (the potentials).
 *
 * Every function works on one chain and calls no BLAS, so the Cython driver
 * runs one chain per prange iteration. The bodies live in ebm_mcmc_kernels.h,
 * included twice below: once for float chains (suffix _f), once for double
 * chains (suffix _d).
 *
 * The transitions are built twice on x86-64 Linux with GCC or clang, for the
 * baseline instruction set and for x86-64-v3 (AVX2), and the loader picks
 * the one the CPU supports. The project builds with -ffp-contract=off and
 * without -ffast-math, and every sum here runs in a fixed order (eight
 * partial sums over j mod 8, combined pairwise, then the tail), so both
 * builds return identical bits and NaN checks stay reliable.
 */
#ifndef EBM_MCMC_H
#define EBM_MCMC_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ebm_math.h"
#include "ebm_normal.h"
#include "ebm_random.h"

#if defined(__x86_64__) && defined(__has_attribute) && defined(__linux__)
#if __has_attribute(target_clones)
#define EBM_MCMC_KERNEL __attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
#endif
#ifndef EBM_MCMC_KERNEL
#define EBM_MCMC_KERNEL
#endif

/* The helpers must be inlined into each build of the kernels: called out of
 * line, they would run the baseline instructions even on AVX2 machines. */
#if defined(__GNUC__)
#define EBM_MCMC_INLINE static inline __attribute__((always_inline))
#else
#define EBM_MCMC_INLINE static inline
#endif

/* Potential kinds; the Python classes in mcmc/_potentials.py use the same codes. */
#define EBM_GAUSSIAN_DIAGONAL 0
#define EBM_GAUSSIAN_DENSE 1
#define EBM_GAUSSIAN_MIXTURE 2
#define EBM_ROSENBROCK 3
#define EBM_FUNNEL 4
#define EBM_CALLBACK 5
#define EBM_GBRBM 6
#define EBM_GAUSSIAN_MIXTURE_DENSE 7

/*
 * A compiled target: return U(x) and write grad U(x) into grad, for one
 * point x of dimension d. user_data is passed through unchanged. The
 * function is called from several threads at once, with different x and
 * grad buffers, so it must not write shared state. A non-finite return
 * value or gradient makes the proposal a divergence.
 */
typedef double (*ebm_energy_grad_fn)(const double *x, double *grad, int64_t d,
                                     void *user_data);

/*
 * A target as the kernels see it. theta holds float or double numbers in
 * the dtype of the chains and constants holds doubles; their layout per
 * kind (d = dim, K = n_components):
 *   Gaussian, diagonal: theta = [mean (d), precision (d)]
 *   Gaussian, dense:    theta = [mean (d), precision (d * d), row-major]
 *   Gaussian mixture:   theta = [means (K * d), precisions (K * d)],
 *                       constants = [log w_k + sum_j log(precision_kj) / 2 (K)]
 *   Gaussian mixture, dense covariances C_k = A_k A_k^T (Cholesky):
 *                       theta = [means (K * d), W_k = A_k^-1 (K * d * d),
 *                       row-major, lower triangular; the upper triangle
 *                       is not read], constants = [log w_k + sum_i log W_k,ii (K)]
 *   Rosenbrock:         constants = [a, b, mu]
 *   funnel:             constants = [sigma]
 *   Gaussian-Bernoulli RBM free energy, H = n_components hidden units:
 *                       theta = [W (d * H), row-major, b (d), c (H),
 *                       1 / sigma (d)]
 *   callback:           function and user_data
 */
typedef struct {
    int kind;
    int n_components;
    ptrdiff_t dim;
    const void *theta;
    const double *constants;
    ebm_energy_grad_fn function;
    void *user_data;
} ebm_potential;

/* Doubles of scratch that one evaluation of the potential needs. */
static inline ptrdiff_t ebm_potential_work_size(int kind, ptrdiff_t d, int n_components)
{
    switch (kind) {
    case EBM_GAUSSIAN_DENSE: return d;
    case EBM_GAUSSIAN_MIXTURE: return (ptrdiff_t)n_components + d;
    case EBM_CALLBACK: return 2 * d;
    case EBM_GBRBM: return n_components;
    case EBM_GAUSSIAN_MIXTURE_DENSE:
        return (ptrdiff_t)n_components + (ptrdiff_t)n_components * d + d;
    default: return 1;
    }
}

/* Length of theta that a kind reads, as laid out above, or -1 for an
 * unknown kind. */
static inline ptrdiff_t ebm_potential_theta_size(int kind, ptrdiff_t d, int n_components)
{
    const ptrdiff_t k = n_components;
    switch (kind) {
    case EBM_GAUSSIAN_DIAGONAL: return 2 * d;
    case EBM_GAUSSIAN_DENSE: return d + d * d;
    case EBM_GAUSSIAN_MIXTURE: return 2 * k * d;
    case EBM_GAUSSIAN_MIXTURE_DENSE: return k * d + k * d * d;
    case EBM_ROSENBROCK: return 0;
    case EBM_FUNNEL: return 0;
    case EBM_CALLBACK: return 0;
    case EBM_GBRBM: return d * k + d + k + d;
    default: return -1;
    }
}

/* Length of constants that a kind reads. */
static inline ptrdiff_t ebm_potential_constants_size(int kind, int n_components)
{
    switch (kind) {
    case EBM_GAUSSIAN_MIXTURE: return n_components;
    case EBM_GAUSSIAN_MIXTURE_DENSE: return n_components;
    case EBM_ROSENBROCK: return 3;
    case EBM_FUNNEL: return 1;
    default: return 0;
    }
}

#define EBM_REAL float
#define EBM_NAME(name) name##_f
#define EBM_SQRT sqrtf
#include "ebm_mcmc_kernels.h"
#undef EBM_REAL
#undef EBM_NAME
#undef EBM_SQRT

#define EBM_REAL double
#define EBM_NAME(name) name##_d
#define EBM_SQRT sqrt
#include "ebm_mcmc_kernels.h"
#undef EBM_REAL
#undef EBM_NAME
#undef EBM_SQRT

#endif
