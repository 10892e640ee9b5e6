"""Effective samples per second of the HMC and random-walk Metropolis samplers.

Target: a d-dimensional standard Gaussian; chains start from exact draws.
HMC uses a fixed step (no adaptation) and n_leapfrog steps; RWM a fixed
step. ESS is the bulk ESS of the first coordinate (ebmfast.diagnostics).
Compared: the compiled kernel (backend="fast"), the NumPy reference
(backend="reference", which replays the per-chain streams in Python and is
run on fewer draws), a textbook single-chain Python loop, and BlackJAX with
vmap when it is installed.

Run from the repository root:

    python bench/bench_samplers.py
    python bench/bench_samplers.py --chains 200 --draws 500   # quicker
"""

import argparse
import sys
import time

import numpy as np

from ebmfast.diagnostics import ess
from ebmfast.mcmc import Gaussian, hmc, rwm


def ess_per_second(samples, seconds):
    return float(ess(np.asarray(samples, dtype=np.float64)[:, :, 0])) / seconds


def textbook_hmc(x, n_draws, step, n_leapfrog, rng):
    """One chain, written the way a textbook writes it."""
    draws = np.empty((n_draws, x.size), dtype=x.dtype)
    for t in range(n_draws):
        p = rng.standard_normal(x.size).astype(x.dtype)
        current_h = 0.5 * x @ x + 0.5 * p @ p
        x_new = x.copy()
        p = p - 0.5 * step * x_new
        for i in range(n_leapfrog):
            x_new = x_new + step * p
            if i < n_leapfrog - 1:
                p = p - step * x_new
        p = p - 0.5 * step * x_new
        proposed_h = 0.5 * x_new @ x_new + 0.5 * p @ p
        if np.log(rng.random()) < current_h - proposed_h:
            x = x_new
        draws[t] = x
    return draws


def textbook_rwm(x, n_draws, step, rng):
    draws = np.empty((n_draws, x.size), dtype=x.dtype)
    energy = 0.5 * x @ x
    for t in range(n_draws):
        x_new = x + step * rng.standard_normal(x.size).astype(x.dtype)
        new_energy = 0.5 * x_new @ x_new
        if np.log(rng.random()) < energy - new_energy:
            x, energy = x_new, new_energy
        draws[t] = x
    return draws


def timed(function):
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def blackjax_hmc(x0, n_draws, step, n_leapfrog, seed):
    """Return (samples, seconds) from BlackJAX with vmap, or None if not installed."""
    try:
        import blackjax
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    kernel = blackjax.hmc(lambda x: -0.5 * jnp.sum(x * x), step_size=step,
                          inverse_mass_matrix=jnp.ones(x0.shape[1]),
                          num_integration_steps=n_leapfrog)

    @jax.jit
    def run(key, positions):
        states = jax.vmap(kernel.init)(positions)

        def one_step(states, key):
            keys = jax.random.split(key, positions.shape[0])
            states, _ = jax.vmap(kernel.step)(keys, states)
            return states, states.position

        _, draws = jax.lax.scan(one_step, states, jax.random.split(key, n_draws))
        return draws

    key = jax.random.PRNGKey(seed)
    positions = jnp.asarray(x0)
    run(key, positions).block_until_ready()  # compile outside the timing
    draws, seconds = timed(lambda: run(key, positions).block_until_ready())
    return np.swapaxes(np.asarray(draws), 0, 1), seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=100, help="dimension d")
    parser.add_argument("--chains", type=int, default=1000, help="number of chains")
    parser.add_argument("--draws", type=int, default=1000, help="draws per chain")
    parser.add_argument("--reference-draws", type=int, default=100,
                        help="draws per chain for the NumPy reference")
    parser.add_argument("--textbook-chains", type=int, default=4,
                        help="chains run one after another by the textbook loop")
    parser.add_argument("--step", type=float, default=0.1, help="HMC step size")
    parser.add_argument("--n-leapfrog", type=int, default=10, help="HMC leapfrog steps")
    parser.add_argument("--rwm-step", type=float, default=0.24, help="RWM step size")
    parser.add_argument("--threads", type=int, default=None, help="OpenMP threads")
    args = parser.parse_args(argv)

    dtype = np.float32
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((args.chains, args.dim)).astype(dtype)
    target = Gaussian(np.zeros(args.dim))
    hmc_options = dict(n_warmup=0, step_size=args.step, n_leapfrog=args.n_leapfrog,
                       adapt_step_size=False, adapt_mass=False, random_state=1,
                       n_threads=args.threads)
    rwm_options = dict(n_warmup=0, step_size=args.rwm_step, adapt_step_size=False,
                       random_state=2, n_threads=args.threads)
    rows = []

    for name, sampler, options in [("HMC", hmc, hmc_options), ("RWM", rwm, rwm_options)]:
        fast, seconds = timed(lambda: sampler(target, x0, n_samples=args.draws, **options))
        fast_rate = ess_per_second(fast.samples, seconds)
        rows.append((name, "ebmfast fast", seconds, fast_rate, 1.0))

        reference, seconds = timed(lambda: sampler(
            target, x0, n_samples=args.reference_draws, backend="reference", **options))
        rate = ess_per_second(reference.samples, seconds)
        rows.append((name, "ebmfast reference (NumPy)", seconds, rate, fast_rate / rate))

        textbook_rng = np.random.default_rng(3)
        if name == "HMC":
            chains, seconds = timed(lambda: np.stack([
                textbook_hmc(x0[i], args.draws, dtype(args.step), args.n_leapfrog,
                             textbook_rng) for i in range(args.textbook_chains)]))
        else:
            chains, seconds = timed(lambda: np.stack([
                textbook_rwm(x0[i], args.draws, dtype(args.rwm_step), textbook_rng)
                for i in range(args.textbook_chains)]))
        rate = ess_per_second(chains, seconds)
        rows.append((name, "textbook single-chain loop", seconds, rate, fast_rate / rate))

        if name == "HMC":
            result = blackjax_hmc(x0, args.draws, args.step, args.n_leapfrog, 4)
            if result is None:
                rows.append((name, "BlackJAX vmap (not installed)", float("nan"),
                             float("nan"), float("nan")))
            else:
                draws, seconds = result
                rate = ess_per_second(draws, seconds)
                rows.append((name, "BlackJAX vmap, jit", seconds, rate, fast_rate / rate))

    print(f"command: python {' '.join(sys.argv)}")
    print(f"d={args.dim}, {args.chains} chains x {args.draws} draws, float32, "
          f"HMC step {args.step} x {args.n_leapfrog}, RWM step {args.rwm_step}; "
          f"reference on {args.reference_draws} draws, textbook on "
          f"{args.textbook_chains} chains\n")
    print("| sampler | implementation | seconds | ESS/s (bulk, x[0]) | fast / this |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, label, seconds, rate, ratio in rows:
        print(f"| {name} | {label} | {seconds:.2f} | {rate:,.0f} | {ratio:.1f} |")


if __name__ == "__main__":
    main()
