"""Retrieval by a modern Hopfield network as the number of stored patterns grows.

d = 20, M in {10, 50, 100, 500, 1000, 5000} random unit-norm patterns
(normalised Gaussian vectors), beta in {1, 8, 16, 64}. Each query is a stored
pattern plus Gaussian noise of norm 0.1 (10% of the pattern's norm),
retrieved with ModernHopfield.retrieve (at most 100 updates). The retrieval
error is the Euclidean distance between the final state and the pattern
the query came from. A retrieval succeeds when that error is below 0.1.
The classical Hopfield network stores about 0.14 d = 2.8 patterns of
dimension 20.

    python bench/experiments/hopfield_capacity.py            # seconds on 2 cores
    python bench/experiments/hopfield_capacity.py --smoke
"""

import numpy as np

from _common import Timer, environment_line, markdown_table, parse_args, pyplot_or_none, write_outputs

from ebmfast import ModernHopfield

DIM = 20
NOISE_NORM = 0.1
SUCCESS_ERROR = 0.1
CLASSICAL_CAPACITY = 0.14 * DIM


def unit_rows(A):
    return A / np.linalg.norm(A, axis=1, keepdims=True)


def main():
    args = parse_args(__doc__.splitlines()[0])
    if args.smoke:
        pattern_counts, betas, n_queries = [10, 100], [1.0, 64.0], 20
    else:
        pattern_counts, betas, n_queries = [10, 50, 100, 500, 1000, 5000], [1.0, 8.0, 16.0, 64.0], 500

    rng = np.random.default_rng(args.seed)
    rows, success = [], {beta: [] for beta in betas}
    with Timer() as timer:
        for n_patterns in pattern_counts:
            patterns = unit_rows(rng.standard_normal((n_patterns, DIM)))
            targets = rng.integers(0, n_patterns, size=n_queries)
            noise = NOISE_NORM * unit_rows(rng.standard_normal((n_queries, DIM)))
            queries = patterns[targets] + noise
            for beta in betas:
                net = ModernHopfield(patterns, beta=beta)
                result = net.retrieve(queries, max_iter=100)
                error = np.linalg.norm(result.states - patterns[targets], axis=1)
                rate = float(np.mean(error < SUCCESS_ERROR))
                success[beta].append(rate)
                rows.append([n_patterns, f"{beta:g}", f"{n_patterns / CLASSICAL_CAPACITY:.0f}",
                             f"{error.mean():.3f}", f"{np.median(error):.3f}",
                             f"{result.n_iter.mean():.1f}", f"{result.converged.mean():.2f}",
                             f"{rate:.3f}"])

    header = ["M", "beta", "M / (0.14 d)", "error, mean", "error, median",
              "iterations, mean", "converged", "success rate"]
    markdown = (f"Modern Hopfield capacity: d = {DIM}, unit-norm random patterns, "
                f"{n_queries} queries per row at noise norm {NOISE_NORM}, at most 100 "
                f"updates; success = error < {SUCCESS_ERROR}. The classical Hopfield "
                f"capacity 0.14 d is {CLASSICAL_CAPACITY:.1f} patterns.\n\n"
                + markdown_table(header, rows) + "\n" + environment_line(timer.seconds))

    plt = pyplot_or_none(args.no_plot)
    figure = None
    if plt is not None:
        figure, axis = plt.subplots(figsize=(5.5, 3.5))
        for beta in betas:
            axis.plot(pattern_counts, success[beta], marker="o", label=f"beta = {beta:g}")
        axis.axvline(CLASSICAL_CAPACITY, color="gray", linestyle="--",
                     label=f"classical 0.14 d = {CLASSICAL_CAPACITY:.1f}")
        axis.set_xscale("log")
        axis.set_ylim(-0.05, 1.05)
        axis.set_xlabel("stored patterns M")
        axis.set_ylabel(f"success rate (error < {SUCCESS_ERROR})")
        axis.set_title(f"Modern Hopfield retrieval, d = {DIM}")
        axis.legend()
    write_outputs(args.output_dir, "hopfield_capacity", markdown, figure)


if __name__ == "__main__":
    main()
