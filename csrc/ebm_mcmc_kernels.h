/*
 * Bodies of the kernels of ebm_mcmc.h for one real type. ebm_mcmc.h includes
 * this file twice with EBM_REAL (float or double), EBM_NAME (adds the _f or
 * _d suffix) and EBM_SQRT defined; it has no include guard on purpose.
 *
 * Energies, kinetic energies and every sum are accumulated in double. Sums
 * over j use eight partial sums over j mod 8, combined as
 * ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7)), then the tail
 * j >= 8 * floor(n / 8) in index order; the eight independent sums let the
 * compiler keep them in vector registers without reassociating anything.
 */

#define T EBM_REAL

EBM_MCMC_INLINE double EBM_NAME(ebm_combine8)(const double *s)
{
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

/* sum_j w[j] * a[j] * a[j], the products formed in double. */
EBM_MCMC_INLINE double EBM_NAME(ebm_weighted_square_sum)(const T *restrict w,
                                                       const T *restrict a, ptrdiff_t n)
{
    double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    ptrdiff_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int k = 0; k < 8; k++)
            s[k] += (double)w[j + k] * (double)a[j + k] * (double)a[j + k];
    double total = EBM_NAME(ebm_combine8)(s);
    for (; j < n; j++) total += (double)w[j] * (double)a[j] * (double)a[j];
    return total;
}

/* sum_j a[j] * b[j] for a in T and b in double, the products formed in double. */
EBM_MCMC_INLINE double EBM_NAME(ebm_dot_mixed)(const T *restrict a, const double *restrict b,
                                             ptrdiff_t n)
{
    double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    ptrdiff_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int k = 0; k < 8; k++) s[k] += (double)a[j + k] * b[j + k];
    double total = EBM_NAME(ebm_combine8)(s);
    for (; j < n; j++) total += (double)a[j] * b[j];
    return total;
}

/*
 * Return -log sum_k exp(l_k) for the K log terms in l, and replace l by the
 * responsibilities softmax(l). The sum runs around the largest term, so it
 * cannot overflow, and it cannot underflow to log(0) while that term is
 * finite. A NaN term makes the result NaN.
 */
EBM_MCMC_INLINE double EBM_NAME(ebm_negative_log_sum_exp)(double *restrict l, int n_terms)
{
    double top = l[0];
    for (int c = 1; c < n_terms; c++)
        if (l[c] > top) top = l[c];
    double total = 0.0;
    for (int c = 0; c < n_terms; c++) {
        l[c] = exp(l[c] - top);
        total += l[c];
    }
    for (int c = 0; c < n_terms; c++) l[c] = l[c] / total;
    return -(top + log(total));
}

/* sum_j a[j], in double; used to check that a gradient is finite. */
EBM_MCMC_INLINE double EBM_NAME(ebm_sum)(const T *restrict a, ptrdiff_t n)
{
    double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    ptrdiff_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int k = 0; k < 8; k++) s[k] += (double)a[j + k];
    double total = EBM_NAME(ebm_combine8)(s);
    for (; j < n; j++) total += (double)a[j];
    return total;
}

/* ---------------------------------------------------------------------------
 * Potentials. Each sets g = grad U(x) and returns U(x). With want_energy == 0
 * the Gaussians skip the energy and return 0; the others compute it anyway
 * because their gradient needs the same terms.
 */

/* U = g^T (x - m) / 2 from the gradient g = P (x - m) already at x. */
EBM_MCMC_INLINE double EBM_NAME(ebm_gaussian_diagonal_energy)(const T *restrict theta,
                                                            ptrdiff_t d,
                                                            const T *restrict x,
                                                            const T *restrict g)
{
    const T *restrict mean = theta;
    double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    ptrdiff_t j = 0;
    for (; j + 8 <= d; j += 8)
        for (int k = 0; k < 8; k++)
            s[k] += (double)g[j + k] * (double)(x[j + k] - mean[j + k]);
    double total = EBM_NAME(ebm_combine8)(s);
    for (; j < d; j++) total += (double)g[j] * (double)(x[j] - mean[j]);
    return 0.5 * total;
}

/* U = (x - m)^T P (x - m) / 2 with P = diag(precision); g = P (x - m) in T. */
EBM_MCMC_INLINE double EBM_NAME(ebm_gaussian_diagonal)(const T *restrict theta, ptrdiff_t d,
                                                     const T *restrict x, T *restrict g,
                                                     int want_energy)
{
    const T *restrict mean = theta;
    const T *restrict precision = theta + d;
    for (ptrdiff_t j = 0; j < d; j++) g[j] = precision[j] * (x[j] - mean[j]);
    if (!want_energy) return 0.0;
    return EBM_NAME(ebm_gaussian_diagonal_energy)(theta, d, x, g);
}

/* Dense precision P (symmetric): g = P (x - m), built as a sum of rows of P
 * scaled by r_k = x_k - m_k, so the inner loop runs along a row. */
EBM_MCMC_INLINE double EBM_NAME(ebm_gaussian_dense)(const T *restrict theta, ptrdiff_t d,
                                                  const T *restrict x, T *restrict g,
                                                  T *restrict r, int want_energy)
{
    const T *restrict mean = theta;
    const T *restrict precision = theta + d;
    for (ptrdiff_t j = 0; j < d; j++) {
        r[j] = x[j] - mean[j];
        g[j] = 0;
    }
    for (ptrdiff_t k = 0; k < d; k++) {
        const T *restrict row = precision + k * d;
        const T rk = r[k];
        for (ptrdiff_t j = 0; j < d; j++) g[j] = g[j] + rk * row[j];
    }
    if (!want_energy) return 0.0;
    double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    ptrdiff_t j = 0;
    for (; j + 8 <= d; j += 8)
        for (int k = 0; k < 8; k++) s[k] += (double)g[j + k] * (double)r[j + k];
    double total = EBM_NAME(ebm_combine8)(s);
    for (; j < d; j++) total += (double)g[j] * (double)r[j];
    return 0.5 * total;
}

/*
 * Mixture of K Gaussians with diagonal precisions P_k:
 * U = -log sum_k exp(l_k), l_k = c_k - (x - m_k)^T P_k (x - m_k) / 2,
 * g = sum_k w_k P_k (x - m_k) with responsibilities w_k = softmax(l)_k.
 * work holds K + d doubles: l (then w), and g before rounding to T.
 */
EBM_MCMC_INLINE double EBM_NAME(ebm_gaussian_mixture)(const T *restrict theta,
                                                    const double *restrict constants,
                                                    int n_components, ptrdiff_t d,
                                                    const T *restrict x, T *restrict g,
                                                    double *restrict work)
{
    double *restrict log_terms = work;
    double *restrict grad = work + n_components;
    const T *means = theta;
    const T *precisions = theta + (ptrdiff_t)n_components * d;
    for (int c = 0; c < n_components; c++) {
        const T *restrict mean = means + (ptrdiff_t)c * d;
        const T *restrict precision = precisions + (ptrdiff_t)c * d;
        double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
        ptrdiff_t j = 0;
        for (; j + 8 <= d; j += 8)
            for (int k = 0; k < 8; k++) {
                double r = (double)x[j + k] - (double)mean[j + k];
                s[k] += (double)precision[j + k] * r * r;
            }
        double q = EBM_NAME(ebm_combine8)(s);
        for (; j < d; j++) {
            double r = (double)x[j] - (double)mean[j];
            q += (double)precision[j] * r * r;
        }
        log_terms[c] = constants[c] - 0.5 * q;
    }

    const double energy = EBM_NAME(ebm_negative_log_sum_exp)(log_terms, n_components);

    for (ptrdiff_t j = 0; j < d; j++) grad[j] = 0.0;
    for (int c = 0; c < n_components; c++) {
        const T *restrict mean = means + (ptrdiff_t)c * d;
        const T *restrict precision = precisions + (ptrdiff_t)c * d;
        const double weight = log_terms[c];
        for (ptrdiff_t j = 0; j < d; j++)
            grad[j] += weight * ((double)precision[j] * ((double)x[j] - (double)mean[j]));
    }
    for (ptrdiff_t j = 0; j < d; j++) g[j] = (T)grad[j];
    return energy;
}

/*
 * Mixture of K Gaussians with dense covariances C_k = A_k A_k^T. With the
 * lower-triangular W_k = A_k^-1 (so P_k = W_k^T W_k) and z_k = W_k (x - m_k):
 * U = -log sum_k exp(l_k), l_k = c_k - |z_k|^2 / 2,
 * g = sum_k w_k W_k^T z_k with responsibilities w_k = softmax(l)_k.
 * Each component costs d^2 / 2 multiply-adds for z_k, and d^2 / 2 more for
 * its gradient term unless its responsibility underflows to 0. A factor
 * rounded to float still gives |z_k|^2 >= 0, which a rounded precision
 * matrix does not promise.
 * work has room for K + K d + d doubles: l (then w), the z_k, and the
 * residual x - m_k (then g before rounding to T).
 */
EBM_MCMC_INLINE double EBM_NAME(ebm_gaussian_mixture_dense)(const T *restrict theta,
                                                          const double *restrict constants,
                                                          int n_components, ptrdiff_t d,
                                                          const T *restrict x, T *restrict g,
                                                          double *restrict work)
{
    double *restrict log_terms = work;
    double *restrict whitened = work + n_components;
    double *restrict grad = whitened + (ptrdiff_t)n_components * d;
    const T *means = theta;
    const T *factors = theta + (ptrdiff_t)n_components * d;
    for (int c = 0; c < n_components; c++) {
        const T *restrict mean = means + (ptrdiff_t)c * d;
        const T *restrict factor = factors + (ptrdiff_t)c * d * d;
        double *restrict z = whitened + (ptrdiff_t)c * d;
        for (ptrdiff_t j = 0; j < d; j++) grad[j] = (double)x[j] - (double)mean[j];
        /* z_i = sum_{j <= i} W_ij r_j runs along row i of W. */
        double q = 0.0;
        for (ptrdiff_t i = 0; i < d; i++) {
            z[i] = EBM_NAME(ebm_dot_mixed)(factor + i * d, grad, i + 1);
            q += z[i] * z[i];
        }
        log_terms[c] = constants[c] - 0.5 * q;
    }

    const double energy = EBM_NAME(ebm_negative_log_sum_exp)(log_terms, n_components);

    /* g = sum_k W_k^T (w_k z_k), adding w_k z_ki times row i of W_k. */
    for (ptrdiff_t j = 0; j < d; j++) grad[j] = 0.0;
    for (int c = 0; c < n_components; c++) {
        const double weight = log_terms[c];
        if (weight == 0.0) continue;
        const T *restrict factor = factors + (ptrdiff_t)c * d * d;
        const double *restrict z = whitened + (ptrdiff_t)c * d;
        for (ptrdiff_t i = 0; i < d; i++) {
            const T *restrict row = factor + i * d;
            const double scaled = weight * z[i];
            for (ptrdiff_t j = 0; j <= i; j++) grad[j] += scaled * (double)row[j];
        }
    }
    for (ptrdiff_t j = 0; j < d; j++) g[j] = (T)grad[j];
    return energy;
}

/*
 * Rosenbrock chain ("banana"), d >= 2:
 * U = a (x_0 - mu)^2 + b sum_{j >= 1} (x_j - x_{j-1}^2)^2, so that
 * x_0 ~ N(mu, 1 / (2a)) and x_j | x_{j-1} ~ N(x_{j-1}^2, 1 / (2b)).
 */
EBM_MCMC_INLINE double EBM_NAME(ebm_rosenbrock)(const double *restrict constants, ptrdiff_t d,
                                              const T *restrict x, T *restrict g)
{
    const double a = constants[0], b = constants[1], mu = constants[2];
    double x0 = (double)x[0] - mu;
    double energy = a * x0 * x0;
    double previous = 2.0 * a * x0; /* d U / d x_j from the term of x_j itself */
    for (ptrdiff_t j = 1; j < d; j++) {
        double xp = (double)x[j - 1];
        double e = (double)x[j] - xp * xp;
        energy += b * e * e;
        g[j - 1] = (T)(previous - 4.0 * b * xp * e);
        previous = 2.0 * b * e;
    }
    g[d - 1] = (T)previous;
    return energy;
}

/*
 * Neal's funnel: v = x_0 ~ N(0, sigma^2), x_j | v ~ N(0, exp(v)) for j >= 1.
 * U = v^2 / (2 sigma^2) + (d - 1) v / 2 + exp(-v) sum_{j>=1} x_j^2 / 2.
 */
EBM_MCMC_INLINE double EBM_NAME(ebm_funnel)(const double *restrict constants, ptrdiff_t d,
                                          const T *restrict x, T *restrict g)
{
    const double sigma = constants[0];
    const double v = (double)x[0];
    const double scale = exp(-v);
    double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    ptrdiff_t j = 1;
    for (; j + 8 <= d; j += 8)
        for (int k = 0; k < 8; k++) {
            double xj = (double)x[j + k];
            s[k] += xj * xj;
            g[j + k] = (T)(scale * xj);
        }
    double sum_squares = EBM_NAME(ebm_combine8)(s);
    for (; j < d; j++) {
        double xj = (double)x[j];
        sum_squares += xj * xj;
        g[j] = (T)(scale * xj);
    }
    const double half_tail = 0.5 * (double)(d - 1);
    g[0] = (T)(v / (sigma * sigma) + half_tail - 0.5 * scale * sum_squares);
    return 0.5 * v * v / (sigma * sigma) + half_tail * v + 0.5 * scale * sum_squares;
}

/*
 * Free energy of a Gaussian-Bernoulli RBM with H hidden units, the hidden
 * units summed out: with u = v / sigma and a_j = c_j + (u W)_j,
 * F(v) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - sum_j softplus(a_j), and
 * dF/dv_i = (v_i - b_i) / sigma_i^2 - (sum_j W_ij logistic(a_j)) / sigma_i.
 * work has room for H doubles: the a_j, then the logistic(a_j).
 */
EBM_MCMC_INLINE double EBM_NAME(ebm_gbrbm)(const T *restrict theta, ptrdiff_t n_hidden,
                                         ptrdiff_t d, const T *restrict x,
                                         T *restrict g, double *restrict work)
{
    const T *restrict W = theta;
    const T *restrict b = theta + d * n_hidden;
    const T *restrict c = b + d;
    const T *restrict inv_sigma = c + n_hidden;
    for (ptrdiff_t j = 0; j < n_hidden; j++) work[j] = (double)c[j];
    for (ptrdiff_t i = 0; i < d; i++) {
        const double u = (double)x[i] * (double)inv_sigma[i];
        const T *restrict row = W + i * n_hidden;
        for (ptrdiff_t j = 0; j < n_hidden; j++) work[j] += u * (double)row[j];
    }
    double energy = 0.0;
    for (ptrdiff_t j = 0; j < n_hidden; j++) {
        energy -= ebm_softplus_d(work[j]);
        work[j] = ebm_logistic_d(work[j]);
    }
    for (ptrdiff_t i = 0; i < d; i++) {
        const T *restrict row = W + i * n_hidden;
        double pull = 0.0;
        for (ptrdiff_t j = 0; j < n_hidden; j++) pull += (double)row[j] * work[j];
        const double s = (double)inv_sigma[i];
        const double diff = (double)x[i] - (double)b[i];
        energy += 0.5 * diff * diff * s * s;
        g[i] = (T)(diff * s * s - pull * s);
    }
    return energy;
}

/* Calls the user's function; float chains go through double buffers in work. */
EBM_MCMC_INLINE double EBM_NAME(ebm_callback)(const ebm_potential *pot, const T *restrict x,
                                            T *restrict g, double *restrict work)
{
    const ptrdiff_t d = pot->dim;
    if (sizeof(T) == sizeof(double))
        return pot->function((const double *)x, (double *)g, (int64_t)d, pot->user_data);
    double *restrict xd = work;
    double *restrict gd = work + d;
    for (ptrdiff_t j = 0; j < d; j++) xd[j] = (double)x[j];
    double energy = pot->function(xd, gd, (int64_t)d, pot->user_data);
    for (ptrdiff_t j = 0; j < d; j++) g[j] = (T)gd[j];
    return energy;
}

/* Set g = grad U(x) and return U(x), or 0 for a Gaussian when !want_energy.
 * work has room for ebm_potential_work_size(...) doubles. */
EBM_MCMC_INLINE double EBM_NAME(ebm_potential_eval)(const ebm_potential *pot, const T *restrict x,
                                                  T *restrict g, double *restrict work,
                                                  int want_energy)
{
    const T *theta = (const T *)pot->theta;
    switch (pot->kind) {
    case EBM_GAUSSIAN_DIAGONAL:
        return EBM_NAME(ebm_gaussian_diagonal)(theta, pot->dim, x, g, want_energy);
    case EBM_GAUSSIAN_DENSE:
        return EBM_NAME(ebm_gaussian_dense)(theta, pot->dim, x, g, (T *)work, want_energy);
    case EBM_GAUSSIAN_MIXTURE:
        return EBM_NAME(ebm_gaussian_mixture)(theta, pot->constants, pot->n_components,
                                              pot->dim, x, g, work);
    case EBM_GAUSSIAN_MIXTURE_DENSE:
        return EBM_NAME(ebm_gaussian_mixture_dense)(theta, pot->constants, pot->n_components,
                                                    pot->dim, x, g, work);
    case EBM_ROSENBROCK:
        return EBM_NAME(ebm_rosenbrock)(pot->constants, pot->dim, x, g);
    case EBM_FUNNEL:
        return EBM_NAME(ebm_funnel)(pot->constants, pot->dim, x, g);
    case EBM_GBRBM:
        return EBM_NAME(ebm_gbrbm)(theta, pot->n_components, pot->dim, x, g, work);
    default:
        return EBM_NAME(ebm_callback)(pot, x, g, work);
    }
}

/*
 * One leapfrog step for a Gaussian with diagonal precision, as one pass:
 * p = p - kick * g_old, x = x + eps M^-1 p, g = P (x - m). The general loop
 * in ebm_hmc_transition makes three passes with the same operations in the
 * same order, so both give identical bits. g_old may be g itself.
 */
EBM_MCMC_INLINE void EBM_NAME(ebm_diagonal_leapfrog_step)(
    const T *restrict theta, ptrdiff_t d, const T *restrict inv_mass, T kick, T eps,
    const T *g_old, T *restrict p, T *restrict x, T *g)
{
    const T *restrict mean = theta;
    const T *restrict precision = theta + d;
    for (ptrdiff_t j = 0; j < d; j++) {
        const T pj = p[j] - kick * g_old[j];
        const T xj = x[j] + eps * (inv_mass[j] * pj);
        p[j] = pj;
        x[j] = xj;
        g[j] = precision[j] * (xj - mean[j]);
    }
}

/* U(x) and grad U(x) for one point, from the batch function of the driver. */
EBM_MCMC_KERNEL static double EBM_NAME(ebm_energy_grad)(const ebm_potential *pot,
                                                        const T *x, T *g, double *work)
{
    return EBM_NAME(ebm_potential_eval)(pot, x, g, work, 1);
}

/* out[j] = 1 / sqrt(inv_mass[j]), the diagonal of M^(1/2), each operation
 * correctly rounded in T. The transitions take it from here once per mass
 * matrix instead of dividing by a square root for every momentum. */
static inline void EBM_NAME(ebm_sqrt_mass_fill)(const T *restrict inv_mass, T *restrict out,
                                                ptrdiff_t n)
{
    for (ptrdiff_t j = 0; j < n; j++) out[j] = (T)1 / EBM_SQRT(inv_mass[j]);
}

/*
 * One HMC transition of one chain (MALA with n_leapfrog = 1, ULA with also
 * metropolis = 0). The state (x, g, energy) changes only on acceptance.
 * Random numbers: with jitter > 0 and metropolis, one float64 uniform number
 * for the step; d normals for the momentum; then, with metropolis, one
 * float64 uniform number. p, xn and gn are scratch of d numbers each.
 * Returns the acceptance probability and sets accepted and divergent.
 */
EBM_MCMC_KERNEL static double EBM_NAME(ebm_hmc_transition)(
    const ebm_potential *pot, T *restrict x, T *restrict g, double *energy,
    uint64_t *stream, double step, double jitter, const T *restrict inv_mass,
    const T *restrict sqrt_mass, int n_leapfrog, int metropolis,
    double max_energy_error, T *restrict p,
    T *restrict xn, T *restrict gn, double *restrict work, int *accepted,
    int *divergent)
{
    const ptrdiff_t d = pot->dim;
    /* With jitter > 0 (Metropolis moves only), the step of this transition
     * is step * (1 + jitter (2 u - 1)) for one float64 uniform u, drawn
     * before the momentum: a fixed path length can make leapfrog
     * trajectories nearly periodic, and a random one breaks that. */
    if (jitter > 0.0 && metropolis) step = step * (1.0 + jitter * (2.0 * ebm_uniform_d(stream) - 1.0));
    const T eps = (T)step;
    const T half = (T)(0.5 * step);

    /* Momentum p ~ N(0, M) with M = diag(1 / inv_mass), K = p^T M^-1 p / 2. */
    EBM_NAME(ebm_normal_fill)(stream, p, d);
    for (ptrdiff_t j = 0; j < d; j++) p[j] = p[j] * sqrt_mass[j];
    const double kinetic0 = 0.5 * EBM_NAME(ebm_weighted_square_sum)(inv_mass, p, d);

    /* Leapfrog: half momentum step, n_leapfrog position steps with full
     * momentum steps between them, final half momentum step. Only the last
     * position needs the energy. */
    memcpy(xn, x, (size_t)d * sizeof(T));
    double new_energy = 0.0;
    if (pot->kind == EBM_GAUSSIAN_DIAGONAL) {
        const T *theta = (const T *)pot->theta;
        EBM_NAME(ebm_diagonal_leapfrog_step)(theta, d, inv_mass, half, eps, g, p, xn, gn);
        for (int l = 1; l < n_leapfrog; l++)
            EBM_NAME(ebm_diagonal_leapfrog_step)(theta, d, inv_mass, eps, eps, gn, p, xn, gn);
        new_energy = EBM_NAME(ebm_gaussian_diagonal_energy)(theta, d, xn, gn);
    } else {
        for (ptrdiff_t j = 0; j < d; j++) p[j] = p[j] - half * g[j];
        for (int l = 0; l < n_leapfrog; l++) {
            const int last = l == n_leapfrog - 1;
            for (ptrdiff_t j = 0; j < d; j++) xn[j] = xn[j] + eps * (inv_mass[j] * p[j]);
            new_energy = EBM_NAME(ebm_potential_eval)(pot, xn, gn, work, last);
            if (!last)
                for (ptrdiff_t j = 0; j < d; j++) p[j] = p[j] - eps * gn[j];
        }
    }
    for (ptrdiff_t j = 0; j < d; j++) p[j] = p[j] - half * gn[j];
    const double kinetic1 = 0.5 * EBM_NAME(ebm_weighted_square_sum)(inv_mass, p, d);
    const double grad_sum = EBM_NAME(ebm_sum)(gn, d);

    /* Metropolis correction on H = U + K. A non-finite H or gradient, or an
     * energy error above max_energy_error, is a divergence. */
    const double energy_error = (new_energy + kinetic1) - (energy[0] + kinetic0);
    int is_divergent = !(isfinite(new_energy) && isfinite(kinetic1) && isfinite(grad_sum));
    double u = 0.0;
    if (metropolis) {
        u = ebm_uniform_d(stream);
        if (!is_divergent && energy_error > max_energy_error) is_divergent = 1;
    }
    double accept_prob;
    if (is_divergent)
        accept_prob = 0.0;
    else if (!metropolis || energy_error <= 0.0)
        accept_prob = 1.0;
    else
        accept_prob = exp(-energy_error);
    const int is_accepted = !is_divergent && (!metropolis || u < accept_prob);
    if (is_accepted) {
        memcpy(x, xn, (size_t)d * sizeof(T));
        memcpy(g, gn, (size_t)d * sizeof(T));
        energy[0] = new_energy;
    }
    *accepted = is_accepted;
    *divergent = is_divergent;
    return accept_prob;
}

/*
 * One random-walk Metropolis transition of one chain:
 * x' = x + step * scale * z with z ~ N(0, I) (d normals), then one float64
 * uniform number for the accept test. z, xn and gn are scratch of d numbers.
 */
EBM_MCMC_KERNEL static double EBM_NAME(ebm_rwm_transition)(
    const ebm_potential *pot, T *restrict x, T *restrict g, double *energy,
    uint64_t *stream, double step, const T *restrict scale, T *restrict z,
    T *restrict xn, T *restrict gn, double *restrict work, int *accepted, int *divergent)
{
    const ptrdiff_t d = pot->dim;
    const T eps = (T)step;

    EBM_NAME(ebm_normal_fill)(stream, z, d);
    for (ptrdiff_t j = 0; j < d; j++) xn[j] = x[j] + eps * (scale[j] * z[j]);
    const double new_energy = EBM_NAME(ebm_potential_eval)(pot, xn, gn, work, 1);
    const double u = ebm_uniform_d(stream);

    /* The state keeps the gradient, so one that overflows is rejected too,
     * as in HMC: a later HMC run from this state could not move. */
    const double grad_sum = EBM_NAME(ebm_sum)(gn, d);
    const int is_divergent = !(isfinite(new_energy) && isfinite(grad_sum));
    double accept_prob;
    if (is_divergent)
        accept_prob = 0.0;
    else if (new_energy <= energy[0])
        accept_prob = 1.0;
    else
        accept_prob = exp(energy[0] - new_energy);
    const int is_accepted = !is_divergent && u < accept_prob;
    if (is_accepted) {
        memcpy(x, xn, (size_t)d * sizeof(T));
        memcpy(g, gn, (size_t)d * sizeof(T));
        energy[0] = new_energy;
    }
    *accepted = is_accepted;
    *divergent = is_divergent;
    return accept_prob;
}

#undef T
