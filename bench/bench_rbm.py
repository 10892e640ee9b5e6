#!/usr/bin/env python
"""Time ebmfast's BernoulliRBM against its reference backend, scikit-learn and BLAS.

One run prints a markdown report (command line, machine and BLAS facts, one
table per case) ready to paste into ``bench/RESULTS.md``:

1. One CD-1 and one PCD-1 epoch at 784 visible x 500 hidden, batch 100.
2. The same for a small model, 64 visible x 32 hidden, batch 10.
3. Block Gibbs throughput of 1,000 chains at 784 x 500.
4. scikit-learn's example settings on the bundled 8x8 digits, with the
   pseudo-log-likelihood of each fitted model.

"The floor" is the time of the matrix products alone, made through
``scipy.linalg.blas.sgemm``. The fast kernels call the same library through
``scipy.linalg.cython_blas``. Every time is the minimum over ``--repeats``
runs that follow one untimed warm-up run, unless a note under a table states
otherwise.

Run from the repository root with ebmfast installed:

    python bench/bench_rbm.py              # every case, estimated at about a minute
    python bench/bench_rbm.py --quick      # smoke run, 15 s measured on 2 busy cores
"""

import argparse
import datetime
import functools
import os
import platform
import shlex
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy
from scipy.linalg.blas import sgemm

import ebmfast
from ebmfast.datasets import load_digits

try:
    import sklearn
    from sklearn.neural_network import BernoulliRBM as SklearnRBM
except ImportError:
    sklearn = None
    SklearnRBM = None

try:
    import threadpoolctl
except ImportError:
    threadpoolctl = None

SEED = 0
DATA_DENSITY = 0.3      # p(x_i = 1) of the random binary training data
LEARNING_RATE = 0.05    # cases 1 and 2
GIBBS_WEIGHT_STD = 0.05
ENV_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                 "OMP_NUM_THREADS")
ALL_CASES = (1, 2, 3, 4)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Time ebmfast's BernoulliRBM (fast and reference backends) "
                    "against scikit-learn and the BLAS products alone, and print "
                    "a markdown report.")
    parser.add_argument(
        "--quick", action="store_true",
        help="short smoke run: 1,000 training samples instead of 10,000, "
             "5 Gibbs sweeps instead of 20, 2 digits epochs instead of 20 and "
             "1 repeat unless --repeats is given; the numbers are not for RESULTS.md")
    parser.add_argument(
        "--cases", type=int, nargs="+", choices=ALL_CASES, default=list(ALL_CASES),
        metavar="N", help="cases to run, from 1 2 3 4 (default: all)")
    parser.add_argument(
        "--repeats", type=int, default=None,
        help="timed runs per measurement after one warm-up run; the minimum is "
             "reported (default: 3, or 1 with --quick)")
    parser.add_argument(
        "--threads", type=int, default=None,
        help="n_threads of the ebmfast models (default: every thread OpenMP "
             "allows); BLAS threads are not changed")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    args.cases = sorted(set(args.cases))
    return args


# -- timing --------------------------------------------------------------------

def best_seconds(run, repeats, warm_up=True):
    """Return the minimum of ``repeats`` calls of ``run``, which returns seconds.

    One extra call before them is discarded when ``warm_up`` is set.
    """
    if warm_up:
        run()
    return min(run() for _ in range(repeats))


def wall_seconds(function):
    """Return a callable that runs ``function`` and returns its wall time."""
    def run():
        start = time.perf_counter()
        function()
        return time.perf_counter() - start
    return run


def rowmajor_sgemm(a, b, out, trans_a=False, trans_b=False, beta=0.0):
    """Return a callable that sets out = op(a) @ op(b) + beta * out with one sgemm.

    a, b and out are C-ordered float32 arrays. Their transposes are Fortran
    ordered, so BLAS computes out.T = op(b).T @ op(a).T in place, and the
    f2py wrapper neither copies an input nor allocates the output. One checked
    call here raises RuntimeError if it does either or gets the product wrong.
    """
    for name, array in (("a", a), ("b", b), ("out", out)):
        if array.dtype != np.float32 or not array.flags.c_contiguous:
            raise ValueError(
                f"{name} must be a C-contiguous float32 array, got dtype "
                f"{array.dtype}, C-contiguous={array.flags.c_contiguous}")
    product = functools.partial(
        sgemm, 1.0, b.T, a.T, beta=beta, c=out.T,
        trans_a=int(trans_b), trans_b=int(trans_a), overwrite_c=1)

    op_a = a.T if trans_a else a
    op_b = b.T if trans_b else b
    expected = op_a @ op_b + beta * out.astype(np.float64)
    # NumPy reports its allocations to tracemalloc, so a copy made by the
    # wrapper shows up in the peak. A call without copies peaks at a few
    # hundred bytes of Python objects, hence the 1 KiB minimum.
    tracemalloc.start()
    result = product()
    _, allocated = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if allocated >= max(min(a.nbytes, b.nbytes, out.nbytes), 1024):
        raise RuntimeError(f"sgemm allocated {allocated} bytes, so it copied an "
                           "operand and the floor would also time that copy")
    if not np.shares_memory(result, out):
        raise RuntimeError("sgemm copied its output array, so the floor would "
                           "also time that copy")
    if not np.allclose(out, expected, rtol=1e-3, atol=1e-3):
        raise RuntimeError("the floor's sgemm call computed the wrong product; "
                           "check its transpose flags")
    return product


def random_binary(rng, shape, p=DATA_DENSITY):
    return (rng.random(shape) < p).astype(np.float32)


# -- report helpers --------------------------------------------------------------

def format_seconds(seconds):
    return f"{seconds:.4g}"


def format_ratio(numerator, denominator):
    if numerator is None or denominator is None:
        return "n/a"
    return f"{numerator / denominator:.2f}"


def print_table(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit():
    """Return the checked-out commit of the repository holding this script."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).resolve().parent,
            capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip()


def print_header(args):
    now = datetime.datetime.now(datetime.timezone.utc)
    print(f"## ebmfast RBM benchmark, {now:%Y-%m-%d %H:%M} UTC")
    print()
    if args.quick:
        print("**Quick smoke run: smaller data and fewer repeats; do not record "
              "these numbers.**")
        print()
    print("```console")
    print(shlex.join([sys.executable, *sys.argv]))
    print("```")
    print()

    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = "unknown"
    print("Machine and software:")
    print()
    print(f"- CPU: {cpu_model()}, {os.cpu_count()} logical CPUs, "
          f"{affinity} usable by this process")
    print(f"- OS: {platform.platform()}")
    print(f"- Python {platform.python_version()}, NumPy {np.__version__}, "
          f"SciPy {scipy.__version__}, scikit-learn "
          f"{sklearn.__version__ if sklearn else 'not installed'}")
    print(f"- ebmfast {ebmfast.__version__} imported from {Path(ebmfast.__file__).parent}")
    print(f"- Repository commit: {git_commit()} (the installed ebmfast may "
          f"include uncommitted changes)")
    print(f"- ebmfast n_threads: {args.threads if args.threads else 'default (None)'}")
    for name in ENV_VARIABLES:
        print(f"- {name}={os.environ.get(name, '(unset)')}")
    print()

    print("`ebmfast.config_dict()`:")
    print()
    for key, value in ebmfast.config_dict().items():
        if isinstance(value, list):
            print(f"- {key}:")
            for item in value:
                print(f"  - {item}")
        else:
            print(f"- {key}: {value}")
    print()

    if threadpoolctl is None:
        print("threadpoolctl is not installed, so the loaded BLAS and OpenMP "
              "libraries are not listed.")
    else:
        print(f"`threadpoolctl.threadpool_info()` (threadpoolctl "
              f"{threadpoolctl.__version__}):")
        print()
        for pool in threadpoolctl.threadpool_info():
            print(f"- {pool.get('user_api')}: {pool.get('internal_api')} "
                  f"{pool.get('version')}, architecture {pool.get('architecture', 'n/a')}, "
                  f"{pool.get('num_threads')} threads, {pool.get('filepath')}")
    print()
    print("The fast kernels and the floor call SciPy's BLAS. The reference "
          "backend and scikit-learn multiply through NumPy, which may load a "
          "different BLAS build (listed above).")
    print()


# -- epoch timing (cases 1 and 2) ---------------------------------------------------

def ebmfast_epoch_seconds(X, n_hidden, batch_size, persistent, backend, args,
                          repeats, warm_up=True):
    """Return the training time of one ebmfast epoch, as ``history_`` records it."""
    def run():
        rbm = ebmfast.BernoulliRBM(
            n_hidden=n_hidden, batch_size=batch_size, n_epochs=1,
            learning_rate=LEARNING_RATE, persistent=persistent, backend=backend,
            n_threads=args.threads, random_state=SEED, monitor_size=1)
        rbm.fit(X)
        return rbm.history_[-1]["seconds"]
    return best_seconds(run, repeats, warm_up)


def sklearn_epoch_seconds(X, n_hidden, batch_size, repeats):
    """Return the wall time of a scikit-learn fit with n_iter=1.

    Returns None when scikit-learn is not installed.
    """
    if SklearnRBM is None:
        return None

    def fit():
        SklearnRBM(n_components=n_hidden, learning_rate=LEARNING_RATE,
                   batch_size=batch_size, n_iter=1, random_state=SEED).fit(X)
    return best_seconds(wall_seconds(fit), repeats)


def floor_epoch_seconds(n_samples, n_visible, n_hidden, batch_size, repeats):
    """Return the time of the five sgemm products of each minibatch of an epoch.

    The products are those of a CD-1 or PCD-1 update: V0 @ W, H @ W.T,
    V1 @ W, V0.T @ P0 and V1.T @ P1, the last two accumulated into dW.
    """
    rng = np.random.default_rng(SEED)
    W = (rng.standard_normal((n_visible, n_hidden)) * 0.01).astype(np.float32)
    V0 = random_binary(rng, (batch_size, n_visible))
    V1 = random_binary(rng, (batch_size, n_visible))
    H = random_binary(rng, (batch_size, n_hidden), p=0.5)
    P0 = np.zeros((batch_size, n_hidden), np.float32)
    P1 = np.zeros((batch_size, n_hidden), np.float32)
    Pv = np.zeros((batch_size, n_visible), np.float32)
    dW = np.zeros((n_visible, n_hidden), np.float32)
    products = (
        rowmajor_sgemm(V0, W, P0),
        rowmajor_sgemm(H, W, Pv, trans_b=True),
        rowmajor_sgemm(V1, W, P1),
        rowmajor_sgemm(V0, P0, dW, trans_a=True),
        rowmajor_sgemm(V1, P1, dW, trans_a=True, beta=1.0),
    )
    n_batches = n_samples // batch_size

    def epoch():
        for _ in range(n_batches):
            for product in products:
                product()
    return best_seconds(wall_seconds(epoch), repeats)


def sgemm_call_overhead_seconds(repeats):
    """Return the time of one 1x1x1 sgemm call from Python, its fixed cost."""
    one = np.ones((1, 1), np.float32)
    out = np.zeros((1, 1), np.float32)
    product = rowmajor_sgemm(one, one, out)
    n_calls = 10_000

    def calls():
        for _ in range(n_calls):
            product()
    return best_seconds(wall_seconds(calls), repeats) / n_calls


def time_epochs(n_samples, n_visible, n_hidden, batch_size, args, reference_once):
    """Return seconds per epoch of the floor, both ebmfast backends and scikit-learn."""
    rng = np.random.default_rng(SEED)
    X = random_binary(rng, (n_samples, n_visible))
    repeats = args.repeats
    times = {"floor": floor_epoch_seconds(n_samples, n_visible, n_hidden,
                                          batch_size, repeats)}
    for persistent, name in ((False, "cd"), (True, "pcd")):
        times[f"fast_{name}"] = ebmfast_epoch_seconds(
            X, n_hidden, batch_size, persistent, "fast", args, repeats)
        if reference_once:
            times[f"reference_{name}"] = ebmfast_epoch_seconds(
                X, n_hidden, batch_size, persistent, "reference", args,
                repeats=1, warm_up=False)
        else:
            times[f"reference_{name}"] = ebmfast_epoch_seconds(
                X, n_hidden, batch_size, persistent, "reference", args, repeats)
    times["sklearn_pcd"] = sklearn_epoch_seconds(X, n_hidden, batch_size, repeats)
    return times


def print_epoch_tables(times, n_batches, per_minibatch):
    """Print the seconds per epoch (and optionally microseconds per minibatch)."""
    def cells(seconds):
        if seconds is None:
            return ["n/a", "n/a"] if per_minibatch else ["n/a"]
        values = [format_seconds(seconds)]
        if per_minibatch:
            values.append(f"{seconds / n_batches * 1e6:.1f}")
        return values

    header = ["method", "CD-1 s/epoch"]
    if per_minibatch:
        header.append("CD-1 µs/minibatch")
    header.append("PCD-1 s/epoch")
    if per_minibatch:
        header.append("PCD-1 µs/minibatch")
    sklearn_name = ("scikit-learn BernoulliRBM" if SklearnRBM is not None
                    else "scikit-learn (not installed)")
    rows = [
        ["floor: 5 sgemm per minibatch", *cells(times["floor"]), *cells(times["floor"])],
        ["ebmfast fast", *cells(times["fast_cd"]), *cells(times["fast_pcd"])],
        ["ebmfast reference", *cells(times["reference_cd"]),
         *cells(times["reference_pcd"])],
        [sklearn_name, *cells(None), *cells(times["sklearn_pcd"])],
    ]
    print_table(header, rows)

    ratio_rows = [
        ["fast / floor", format_ratio(times["fast_cd"], times["floor"]),
         format_ratio(times["fast_pcd"], times["floor"])],
        ["scikit-learn / fast", "n/a",
         format_ratio(times["sklearn_pcd"], times["fast_pcd"])],
        ["reference / fast", format_ratio(times["reference_cd"], times["fast_cd"]),
         format_ratio(times["reference_pcd"], times["fast_pcd"])],
    ]
    print_table(["ratio", "CD-1", "PCD-1"], ratio_rows)


def epoch_case_notes(n_samples, batch_size, reference_once, repeats):
    print(f"- Data: {n_samples:,} random binary rows, Bernoulli({DATA_DENSITY}), "
          f"seed {SEED}, float32; batch {batch_size}, learning_rate {LEARNING_RATE}.")
    print("- ebmfast: `history_[-1][\"seconds\"]` of `fit` with n_epochs=1 and "
          "monitor_size=1. It covers the minibatch updates plus one copy of the "
          "parameters and a finiteness check, not the initialisation.")
    if reference_once:
        print("- The reference backend ran once per column, with no warm-up and "
              f"no repeats, because one epoch takes seconds; the other rows are "
              f"the best of {repeats} after a warm-up.")
    if SklearnRBM is None:
        print("- scikit-learn is not installed, so its row is skipped.")
    else:
        print("- scikit-learn trains by PCD-1 only, so its CD-1 cell is n/a. Its "
              "time is the wall time of `fit` with n_iter=1, which also validates "
              "X and initialises the weights.")
    print("- The floor is the same for CD-1 and PCD-1, because both make the same "
          "five products; it is timed once and shown in both columns.")


def run_large_epoch_case(args):
    n_samples = 1_000 if args.quick else 10_000
    batch_size = 100
    print("### Case 1: one epoch, 784 visible x 500 hidden, batch 100")
    print()
    times = time_epochs(n_samples, 784, 500, batch_size, args, reference_once=True)
    print_epoch_tables(times, n_samples // batch_size, per_minibatch=False)
    epoch_case_notes(n_samples, batch_size, True, args.repeats)
    print()


def run_small_epoch_case(args):
    n_samples = 1_000 if args.quick else 10_000
    batch_size = 10
    print("### Case 2: one epoch, 64 visible x 32 hidden, batch 10")
    print()
    times = time_epochs(n_samples, 64, 32, batch_size, args, reference_once=False)
    print_epoch_tables(times, n_samples // batch_size, per_minibatch=True)
    epoch_case_notes(n_samples, batch_size, False, args.repeats)
    overhead = sgemm_call_overhead_seconds(args.repeats)
    print("- Target: reference / fast >= 6 in both columns.")
    print(f"- One call of the SciPy sgemm wrapper from Python costs about "
          f"{overhead * 1e6:.2f} µs even for a 1x1x1 product, so "
          f"{5 * overhead * 1e6:.1f} µs of each floor minibatch is call overhead "
          f"that the compiled kernels do not pay. At this size the floor is an "
          f"upper bound and fast / floor may fall below 1.")
    print()


# -- Gibbs throughput (case 3) ------------------------------------------------------

def run_gibbs_case(args):
    n_chains, n_visible, n_hidden = 1_000, 784, 500
    n_steps = 5 if args.quick else 20
    rng = np.random.default_rng(SEED)
    W = (rng.standard_normal((n_visible, n_hidden)) * GIBBS_WEIGHT_STD).astype(np.float32)
    b = np.zeros(n_visible, np.float32)
    c = np.zeros(n_hidden, np.float32)
    V = random_binary(rng, (n_chains, n_visible))

    H = np.zeros((n_chains, n_hidden), np.float32)
    Pv = np.zeros((n_chains, n_visible), np.float32)
    hidden_product = rowmajor_sgemm(V, W, H)
    visible_product = rowmajor_sgemm(H, W, Pv, trans_b=True)

    def floor_sweeps():
        for _ in range(n_steps):
            hidden_product()
            visible_product()

    seconds = {"floor": best_seconds(wall_seconds(floor_sweeps), args.repeats)}
    for backend in ("fast", "reference"):
        rbm = ebmfast.BernoulliRBM.from_params(
            W, b, c, backend=backend, n_threads=args.threads, random_state=SEED)
        rbm.gibbs(V, n_steps=1)     # warm-up: spawns the chain streams
        sweeps = functools.partial(rbm.gibbs, V, n_steps=n_steps)
        seconds[backend] = best_seconds(wall_seconds(sweeps), args.repeats,
                                        warm_up=False)

    def throughput(name):
        return n_chains * n_steps / seconds[name]

    print(f"### Case 3: block Gibbs throughput, {n_chains:,} chains at "
          f"{n_visible} x {n_hidden}")
    print()
    print_table(
        ["method", f"s per {n_steps} sweeps", "chain-sweeps/s"],
        [["floor: 2 sgemm per sweep", format_seconds(seconds["floor"]),
          f"{throughput('floor'):,.0f}"],
         ["ebmfast fast", format_seconds(seconds["fast"]), f"{throughput('fast'):,.0f}"],
         ["ebmfast reference", format_seconds(seconds["reference"]),
          f"{throughput('reference'):,.0f}"]])
    print_table(
        ["ratio", "value"],
        [["floor throughput / fast throughput (target <= 1.15)",
          format_ratio(throughput("floor"), throughput("fast"))],
         ["fast throughput / reference throughput",
          format_ratio(throughput("fast"), throughput("reference"))]])
    print(f"- `rbm.gibbs(V, n_steps={n_steps})` on a model from "
          f"`BernoulliRBM.from_params` with weights N(0, {GIBBS_WEIGHT_STD}^2), "
          f"zero biases and float32 binary starting states, seed {SEED}. Each "
          f"backend ran one untimed `gibbs(V, n_steps=1)` first; the time is the "
          f"best of {args.repeats}.")
    print("- The floor makes the two products of a sweep, V @ W (1000x784 @ "
          "784x500) and H @ W.T (1000x500 @ 500x784), into preallocated arrays.")
    print()


# -- scikit-learn's digits example (case 4) -----------------------------------------

def fit_sklearn_digits(X, settings):
    return SklearnRBM(n_components=settings["n_hidden"],
                      learning_rate=settings["learning_rate"],
                      batch_size=settings["batch_size"], n_iter=settings["n_epochs"],
                      random_state=SEED).fit(X)


def fit_ebmfast_digits(X, settings, persistent, momentum, n_threads):
    return ebmfast.BernoulliRBM(
        n_hidden=settings["n_hidden"], learning_rate=settings["learning_rate"],
        batch_size=settings["batch_size"], n_epochs=settings["n_epochs"],
        persistent=persistent, momentum=momentum, n_threads=n_threads,
        random_state=SEED, monitor_size=1).fit(X)


def run_digits_case(args):
    settings = {"n_hidden": 100, "learning_rate": 0.06, "batch_size": 10,
                "n_epochs": 2 if args.quick else 20}
    images, _ = load_digits()
    X = images.astype(np.float32)

    rows = []
    sklearn_seconds = None
    if SklearnRBM is not None:
        fit = functools.partial(fit_sklearn_digits, X, settings)
        sklearn_seconds = best_seconds(wall_seconds(fit), args.repeats)
        skl = fit()
        exact = ebmfast.BernoulliRBM.from_params(
            skl.components_.T, skl.intercept_visible_, skl.intercept_hidden_,
            n_threads=args.threads)
        sklearn_pl = float(exact.score_samples(X).mean())
        sklearn_estimate = float(skl.score_samples(X).mean())
        rows.append(["scikit-learn BernoulliRBM (PCD-1, no momentum)",
                     format_seconds(sklearn_seconds), f"{sklearn_pl:.3f}", "1.00"])

    for momentum in (0.0, 0.5):
        for persistent in (True, False):
            fit = functools.partial(fit_ebmfast_digits, X, settings, persistent,
                                    momentum, args.threads)
            seconds = best_seconds(wall_seconds(fit), args.repeats)
            # The fit is repeatable for a fixed seed, so a fresh one scores the
            # same model that was timed.
            pl = float(fit().score_samples(X).mean())
            method = "PCD-1" if persistent else "CD-1"
            rows.append([f"ebmfast fast ({method}, momentum {momentum})",
                         format_seconds(seconds), f"{pl:.3f}",
                         format_ratio(sklearn_seconds, seconds)])

    print(f"### Case 4: scikit-learn's example settings on the {X.shape[0]:,} "
          f"bundled digits")
    print()
    print_table(["model", "fit s", "mean pseudo-log-likelihood (exact)",
                 "scikit-learn s / this s"], rows)
    print(f"- X: `load_digits()` images as float32 in [0, 1], shape {X.shape}. "
          f"{settings['n_hidden']} hidden, learning_rate {settings['learning_rate']}, "
          f"batch {settings['batch_size']}, {settings['n_epochs']} epochs, seed {SEED}. "
          f"Target: scikit-learn s / ebmfast s >= 5.")
    print(f"- Times are wall times of the whole `fit`, best of {args.repeats} "
          "after a warm-up. ebmfast used monitor_size=1, so its per-epoch "
          "metrics cost one row each.")
    print("- The pseudo-log-likelihood is the exact sum over the 64 features of "
          "log p(v_i | v_-i), averaged over all images: ebmfast's `score_samples`.")
    if SklearnRBM is None:
        print("- scikit-learn is not installed, so its row and the ratios are skipped.")
    else:
        print("- scikit-learn's fitted parameters are scored the same way through "
              "`ebmfast.BernoulliRBM.from_params`. Its own `score_samples` "
              "estimates that sum from one random flip per image: mean "
              f"{sklearn_estimate:.3f} on this run.")
    print()


def main(argv=None):
    args = parse_args(argv)
    print_header(args)
    cases = {1: run_large_epoch_case, 2: run_small_epoch_case,
             3: run_gibbs_case, 4: run_digits_case}
    for number in args.cases:
        cases[number](args)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
