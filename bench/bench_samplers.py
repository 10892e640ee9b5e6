"""Effective samples per second of the HMC and random-walk Metropolis samplers.

Target: a d-dimensional standard Gaussian; chains start from exact draws.
HMC uses a fixed step (no adaptation) and n_leapfrog steps; RWM a fixed
step. ESS is the bulk ESS of the first coordinate (ebmfast.diagnostics).
Compared: the compiled kernel (backend="fast"); a plain vectorised NumPy
sampler over all chains with ``Generator.standard_normal`` (the baseline the
targets refer to); the ebmfast reference backend (it replays the per-chain
streams in Python, so it is slow on purpose, and runs on fewer draws); a
textbook single-chain Python loop; and BlackJAX with vmap and jit when it is
installed, timed after compilation. The fast backend, NumPy and BlackJAX
each run once untimed and then ``--repeats`` times. The table gives the
fastest and the median time, and the ratios compare fastest runs.

A second case times a target that is a Python callable: the same Gaussian
written as two NumPy functions in a ``CallablePotential``, on fewer chains
and draws. Both backends call the same functions once per leapfrog step
and draw identical samples (the script checks this). The fast backend
computes the random numbers and the arithmetic between the calls in
compiled code; the reference replays the streams and computes in NumPy. A
third row times the calls of the callable alone, the part of each run spent
in the user's functions.

Run from the repository root:

    python bench/bench_samplers.py
    python bench/bench_samplers.py --chains 200 --draws 500   # quicker
    python bench/bench_samplers.py --case callable            # the callable case only
"""

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

from ebmfast.diagnostics import ess
from ebmfast.mcmc import CallablePotential, Gaussian, hmc, rwm


def ess_per_second(samples, seconds):
    return float(ess(np.asarray(samples, dtype=np.float64)[:, :, 0])) / seconds


def textbook_hmc(x, n_draws, step, n_leapfrog, rng):
    """Run one HMC chain, written the way a textbook writes it."""
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


def vectorised_hmc(x, n_draws, step, n_leapfrog, rng):
    """Run all chains at once in NumPy: x has shape (n_chains, d), U = |x|^2 / 2."""
    dtype = x.dtype
    step = dtype.type(step)
    half = dtype.type(0.5 * step)
    draws = np.empty((x.shape[0], n_draws, x.shape[1]), dtype=dtype)
    energy = 0.5 * np.einsum("ij,ij->i", x, x)
    for t in range(n_draws):
        p = rng.standard_normal(x.shape, dtype=dtype)
        current_h = energy + 0.5 * np.einsum("ij,ij->i", p, p)
        x_new = x.copy()
        p -= half * x_new
        for i in range(n_leapfrog):
            x_new += step * p
            if i < n_leapfrog - 1:
                p -= step * x_new
        p -= half * x_new
        new_energy = 0.5 * np.einsum("ij,ij->i", x_new, x_new)
        proposed_h = new_energy + 0.5 * np.einsum("ij,ij->i", p, p)
        accept = np.log(rng.random(x.shape[0])) < current_h - proposed_h
        x = np.where(accept[:, None], x_new, x)
        energy = np.where(accept, new_energy, energy)
        draws[:, t] = x
    return draws


def vectorised_rwm(x, n_draws, step, rng):
    dtype = x.dtype
    step = dtype.type(step)
    draws = np.empty((x.shape[0], n_draws, x.shape[1]), dtype=dtype)
    energy = 0.5 * np.einsum("ij,ij->i", x, x)
    for t in range(n_draws):
        x_new = x + step * rng.standard_normal(x.shape, dtype=dtype)
        new_energy = 0.5 * np.einsum("ij,ij->i", x_new, x_new)
        accept = np.log(rng.random(x.shape[0])) < energy - new_energy
        x = np.where(accept[:, None], x_new, x)
        energy = np.where(accept, new_energy, energy)
        draws[:, t] = x
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


def blackjax_hmc(x0, n_draws, step, n_leapfrog, seed, repeats):
    """Return (samples, list of seconds) from BlackJAX with vmap, or None if not installed."""
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
    draws, seconds = repeated(lambda: run(key, positions).block_until_ready(), repeats)
    return np.swapaxes(np.asarray(draws), 0, 1), seconds


def repeated(function, repeats, warm_up=False):
    """Run function() repeats times; return (last value, list of seconds).

    With warm_up, one untimed run comes first. On the 2-vCPU machine of
    bench/RESULTS.md, memory that no process used before is slow to touch.
    Filling a new 400 MB array took 0.87 s the first time and 0.045 s after
    that, so whichever implementation ran first paid for it.
    """
    if warm_up:
        function()
    seconds = []
    value = None
    for _ in range(repeats):
        value = None  # free the previous run's output before the next one
        value, elapsed = timed(function)
        seconds.append(elapsed)
    return value, seconds


def blas_description():
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # the layout of show_config differs between NumPy versions
        return "unknown"


def cpu_description():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
            else:
                name = platform.processor()
        with open("/proc/cpuinfo") as cpuinfo:
            flags = next((line for line in cpuinfo if line.startswith("flags")), "")
        wide = [flag for flag in ("avx2", "fma", "avx512f") if f" {flag}" in flags]
        return f"{name}, {os.cpu_count()} logical CPUs, {'/'.join(wide) or 'no AVX2'}"
    except OSError:
        return platform.processor() or "unknown"


def fixed_step_options(args):
    """Return the keyword arguments of hmc and rwm: fixed steps, no warmup."""
    # No step jitter: the baselines all run one fixed step size.
    hmc_options = dict(n_warmup=0, step_size=args.step, n_leapfrog=args.n_leapfrog,
                       adapt_step_size=False, adapt_mass=False, step_jitter=0.0,
                       random_state=1, n_threads=args.threads)
    rwm_options = dict(n_warmup=0, step_size=args.rwm_step, adapt_step_size=False,
                       random_state=2, n_threads=args.threads)
    return hmc_options, rwm_options


def compiled_case(args):
    """Time the built-in Gaussian target against the baselines and return the table rows."""
    dtype = np.float32
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((args.chains, args.dim)).astype(dtype)
    target = Gaussian(np.zeros(args.dim))
    hmc_options, rwm_options = fixed_step_options(args)
    rows = []

    def add_row(name, label, samples, seconds, fast_rate):
        # ESS from the last run. Ratios use each implementation's fastest
        # run, as timeit does: on this shared 2-vCPU machine, slower runs
        # mostly measure other work competing for the cores.
        effective = ess_per_second(samples, 1.0)
        rate = effective / min(seconds)
        ratio = fast_rate / rate if fast_rate else 1.0
        rows.append((name, label, min(seconds), statistics.median(seconds), rate,
                     effective / statistics.median(seconds), ratio))
        return rate

    for name, sampler, options in [("HMC", hmc, hmc_options), ("RWM", rwm, rwm_options)]:
        fast, seconds = repeated(lambda: sampler(target, x0, n_samples=args.draws,
                                                 **options), args.repeats, warm_up=True)
        fast_rate = add_row(name, "ebmfast fast", fast.samples, seconds, None)
        del fast

        numpy_rng = np.random.default_rng(5)
        if name == "HMC":
            draws, seconds = repeated(lambda: vectorised_hmc(
                x0, args.draws, args.step, args.n_leapfrog, numpy_rng), args.repeats,
                warm_up=True)
        else:
            draws, seconds = repeated(lambda: vectorised_rwm(
                x0, args.draws, args.rwm_step, numpy_rng), args.repeats, warm_up=True)
        add_row(name, "vectorised NumPy (standard_normal)", draws, seconds, fast_rate)
        del draws

        if not args.skip_slow:
            reference, seconds = repeated(lambda: sampler(
                target, x0, n_samples=args.reference_draws, backend="reference",
                **options), 1)
            add_row(name, "ebmfast reference backend (stream replay)", reference.samples,
                    seconds, fast_rate)

            textbook_rng = np.random.default_rng(3)
            if name == "HMC":
                chains, seconds = repeated(lambda: np.stack([
                    textbook_hmc(x0[i], args.draws, dtype(args.step), args.n_leapfrog,
                                 textbook_rng) for i in range(args.textbook_chains)]), 1)
            else:
                chains, seconds = repeated(lambda: np.stack([
                    textbook_rwm(x0[i], args.draws, dtype(args.rwm_step), textbook_rng)
                    for i in range(args.textbook_chains)]), 1)
            add_row(name, "textbook single-chain loop", chains, seconds, fast_rate)

        if name == "HMC":
            result = blackjax_hmc(x0, args.draws, args.step, args.n_leapfrog, 4,
                                  args.repeats)
            if result is None:
                rows.append((name, "BlackJAX vmap (not installed)", float("nan"),
                             float("nan"), float("nan"), float("nan"), float("nan")))
            else:
                draws, seconds = result
                add_row(name, "BlackJAX vmap, jit (compile excluded)", draws, seconds,
                        fast_rate)

    return rows


def gaussian_callable(dim):
    """Return the standard Gaussian of dimension dim as a NumPy callable target."""
    return CallablePotential(energy=lambda X: 0.5 * np.einsum("ij,ij->i", X, X),
                             grad=lambda X: X, dim=dim)


def callable_case(args):
    """Time both backends on a Python callable target and return the table rows.

    Both backends call the same NumPy functions and draw the same random
    numbers, so their draws must be identical. The ESS is then shared, and
    the ESS/s ratio equals the time ratio. The last row of each sampler
    times the calls of the callable alone, as many as the sampler makes.
    """
    dtype = np.float32
    x0 = np.random.default_rng(0).standard_normal((args.callable_chains, args.dim))
    x0 = x0.astype(dtype)
    target = gaussian_callable(args.dim)
    hmc_options, rwm_options = fixed_step_options(args)
    rows = []
    for name, sampler, options, n_calls in [
            ("HMC", hmc, hmc_options, args.n_leapfrog),
            ("RWM", rwm, rwm_options, 1)]:
        def run(backend):
            return sampler(target, x0, n_samples=args.callable_draws, backend=backend,
                           **options)

        fast, fast_seconds = repeated(lambda: run("fast"), args.repeats)
        reference, reference_seconds = repeated(lambda: run("reference"), 1)
        if not np.array_equal(fast.samples, reference.samples):
            raise RuntimeError(f"{name}: the fast and reference backends drew different "
                               "samples from the callable target.")
        effective = ess_per_second(fast.samples, 1.0)
        fast_time = statistics.median(fast_seconds)
        reference_time = reference_seconds[0]

        def call_target():
            for _ in range(args.callable_draws * n_calls):
                target._energy_grad(x0)

        _, call_seconds = repeated(call_target, args.repeats)
        call_time = statistics.median(call_seconds)
        call_label = f"the callable alone: energy and grad, {n_calls} call(s) per draw"
        for label, seconds in [("ebmfast fast", fast_time),
                               ("ebmfast reference", reference_time),
                               (call_label, call_time)]:
            rate = effective / seconds if label.startswith("ebmfast") else float("nan")
            rows.append((name, label, seconds, rate, seconds / fast_time))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["all", "compiled", "callable"], default="all",
                        help="cases to run: compiled (the built-in Gaussian against the "
                             "baselines), callable (both backends on a NumPy callable "
                             "target) or all")
    parser.add_argument("--dim", type=int, default=100, help="dimension d")
    parser.add_argument("--chains", type=int, default=1000, help="number of chains")
    parser.add_argument("--draws", type=int, default=1000, help="draws per chain")
    parser.add_argument("--reference-draws", type=int, default=100,
                        help="draws per chain for the ebmfast reference backend")
    parser.add_argument("--textbook-chains", type=int, default=4,
                        help="chains run one after another by the textbook loop")
    parser.add_argument("--callable-chains", type=int, default=300,
                        help="number of chains of the callable case")
    parser.add_argument("--callable-draws", type=int, default=200,
                        help="draws per chain of the callable case, for both backends")
    parser.add_argument("--step", type=float, default=0.1, help="HMC step size")
    parser.add_argument("--n-leapfrog", type=int, default=10, help="HMC leapfrog steps")
    parser.add_argument("--rwm-step", type=float, default=0.24, help="RWM step size")
    parser.add_argument("--threads", type=int, default=None, help="OpenMP threads")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed runs of each implementation")
    parser.add_argument("--skip-slow", action="store_true",
                        help="skip the ebmfast reference backend and the textbook loop "
                             "of the compiled case")
    args = parser.parse_args(argv)

    from ebmfast._parallel import max_threads

    print(f"command: python {' '.join(sys.argv)}")
    print(f"CPU: {cpu_description()}; OpenMP threads: {args.threads or max_threads()}; "
          f"NumPy {np.__version__} with BLAS {blas_description()}")

    if args.case in ("all", "compiled"):
        rows = compiled_case(args)
        print(f"d={args.dim}, {args.chains} chains x {args.draws} draws, float32, "
              f"HMC step {args.step} x {args.n_leapfrog}, RWM step {args.rwm_step}; "
              f"reference backend on {args.reference_draws} draws and textbook loop on "
              f"{args.textbook_chains} chains, once each; others {args.repeats} runs, "
              "ratios from each one's fastest run\n")
        print("| sampler | implementation | best seconds | median seconds "
              "| ESS/s (bulk, x[0]), best | ESS/s, median | fast / this (best) |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        for name, label, best, median, rate, median_rate, ratio in rows:
            print(f"| {name} | {label} | {best:.2f} | {median:.2f} | {rate:,.0f} "
                  f"| {median_rate:,.0f} | {ratio:.1f} |")

    if args.case in ("all", "callable"):
        rows = callable_case(args)
        if args.case == "all":
            print()
        print(f"Callable target: d={args.dim} standard Gaussian as NumPy functions "
              f"(energy by einsum, grad returns X), {args.callable_chains} chains x "
              f"{args.callable_draws} draws, float32, HMC step {args.step} x "
              f"{args.n_leapfrog}, RWM step {args.rwm_step}; fast backend and callable "
              f"{args.repeats} runs, reference backend once; both backends drew "
              "identical samples\n")
        print("| sampler | implementation | median seconds | ESS/s (bulk, x[0]) "
              "| time / fast time |")
        print("| --- | --- | ---: | ---: | ---: |")
        for name, label, seconds, rate, ratio in rows:
            rate_text = "-" if np.isnan(rate) else f"{rate:,.0f}"
            print(f"| {name} | {label} | {seconds:.3f} | {rate_text} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
