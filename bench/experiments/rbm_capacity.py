"""Reconstruction error of a Bernoulli RBM trained on random binary patterns, by hidden layer size.

100 visible units, n_hidden in {10, 50, 100, 200}, trained with CD-1 on
1,000 random binary patterns (each bit 1 with probability 1/2) for 500 epochs. The error of
a pattern v is the L1 distance sum_i |v_i - p(v_i = 1 | h)| with
h = p(h = 1 | v) (mean field, no sampling), over 100 of the training
patterns; the table gives its mean and standard deviation, and the same
divided by the 100 visible units.

    python bench/experiments/rbm_capacity.py                 # about 10 s on 2 cores
    python bench/experiments/rbm_capacity.py --smoke         # seconds
"""

import numpy as np

from _common import Timer, environment_line, markdown_table, parse_args, pyplot_or_none, write_outputs

import ebmfast

N_VISIBLE = 100


def reconstruction_l1(rbm, V):
    hidden = rbm.hidden_probs(V)
    visible = rbm.visible_probs(hidden)
    return np.abs(V - visible).sum(axis=1)


def main():
    args = parse_args(__doc__.splitlines()[0])
    if args.smoke:
        hidden_sizes, n_patterns, n_epochs = [10, 50], 200, 3
    else:
        hidden_sizes, n_patterns, n_epochs = [10, 50, 100, 200], 1000, 500
    n_eval = min(100, n_patterns)

    rng = np.random.default_rng(args.seed)
    patterns = (rng.random((n_patterns, N_VISIBLE)) < 0.5).astype(np.float64)
    evaluated = patterns[:n_eval]

    rows, means, sds = [], [], []
    with Timer() as timer:
        for n_hidden in hidden_sizes:
            rbm = ebmfast.BernoulliRBM(n_hidden=n_hidden, learning_rate=0.05, batch_size=10,
                                       n_epochs=n_epochs, k=1, momentum=0.5,
                                       random_state=args.seed)
            with Timer() as fit_timer:
                rbm.fit(patterns)
            errors = reconstruction_l1(rbm, evaluated)
            means.append(errors.mean())
            sds.append(errors.std(ddof=1))
            rows.append([n_hidden, f"{errors.mean():.2f}", f"{errors.std(ddof=1):.2f}",
                         f"{errors.mean() / N_VISIBLE:.3f}", f"{fit_timer.seconds:.1f}"])

    header = ["n_hidden", "L1 error, mean", "L1 error, sd", "mean per unit", "fit (s)"]
    markdown = (f"RBM capacity: {N_VISIBLE} visible units, {n_patterns} random binary "
                f"patterns, CD-1, {n_epochs} epochs, learning rate 0.05, batch 10, "
                f"momentum 0.5; L1 reconstruction error with p(v | h = p(h | v)) on "
                f"{n_eval} training patterns (a model that outputs 0.5 everywhere "
                f"scores {N_VISIBLE * 0.5:.0f}).\n\n"
                + markdown_table(header, rows) + "\n" + environment_line(timer.seconds))

    plt = pyplot_or_none(args.no_plot)
    figure = None
    if plt is not None:
        figure, axis = plt.subplots(figsize=(5, 3.5))
        axis.errorbar(hidden_sizes, means, yerr=sds, marker="o", capsize=4)
        axis.set_xscale("log")
        axis.set_xticks(hidden_sizes, [str(n) for n in hidden_sizes])
        axis.set_xlabel("hidden units")
        axis.set_ylabel("L1 reconstruction error (mean ± sd)")
        axis.set_title(f"Bernoulli RBM, {n_patterns} random patterns of {N_VISIBLE} bits")
    write_outputs(args.output_dir, "rbm_capacity", markdown, figure)


if __name__ == "__main__":
    main()
