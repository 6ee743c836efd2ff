"""Family-wise false-positive rate of the model comparison (docs/benchmark.md, "Statistics").

Under no true difference: 3 models answer the same 50 images on each of 10 values (so 10
values x 3 model pairs = 30 tests per run); each image has its own appeal p_i (drawn from a
Beta with the value's mean, so images differ and models agree on them, as real models do),
and every model says yes with probability p_i. A run is a false positive when any of its 30
comparisons is called a difference. The app's test (exact McNemar on shared images, Holm
over the 30) is shown beside uncorrected McNemar; then the power to find one real
difference (one model's appeal shifted on one value).

    python -m perf.comparison_fwer [--reps 1000] [--seed 0]
"""

from __future__ import annotations

import numpy as np

from perf._util import simulation_args
from vspectrum_app.bench.scoring import paired_comparisons
from vspectrum_app.core.values import SCHWARTZ_VALUES

MODELS = ("m:a", "m:b", "m:c")
IMAGES = 50


def simulate_run(rng, shift: float = 0.0) -> list[dict]:
    answers = []
    for vi, value in enumerate(SCHWARTZ_VALUES):
        mean = rng.uniform(0.3, 0.95)
        appeal = rng.beta(2 * mean / (1 - mean), 2.0, size=IMAGES)  # Beta(a, 2) has mean a / (a + 2)
        for model in MODELS:
            p = np.clip(appeal + (shift if (model == "m:a" and vi == 0) else 0.0), 0, 1)
            yes = rng.random(IMAGES) < p
            answers += [
                {
                    "target": model,
                    "mode": "vlm",
                    "value": value,
                    "keyword": "k",
                    "image_sha256": f"{value}{i}",
                    "answer_class": "yes" if y else "no",
                }
                for i, y in enumerate(yes)
            ]
    return answers


def main(argv: list[str]) -> None:
    args, rng = simulation_args("perf.comparison_fwer", argv, reps=1000)
    any_holm = any_raw = tests = 0
    for _ in range(args.reps):
        marks = paired_comparisons(simulate_run(rng))
        tests = len(marks)
        any_holm += any(not m["within_noise"] for m in marks)
        any_raw += any(m["p"] < 0.05 for m in marks)
    se = np.sqrt(max(any_holm, 1) / args.reps * (1 - any_holm / args.reps) / args.reps)
    print(
        f"no true difference, {len(SCHWARTZ_VALUES)} values x 3 model pairs = {tests} tests, "
        f"{IMAGES} shared images each, {args.reps} simulated runs"
    )
    print(
        f"  family-wise false-positive rate, exact McNemar + Holm: {any_holm / args.reps:.3f} "
        f"(+-{1.96 * se:.3f}; target <= 0.05)"
    )
    print(f"  family-wise false-positive rate, McNemar uncorrected: {any_raw / args.reps:.3f}")
    for shift in (0.2, 0.3):
        found = 0
        power_reps = max(100, args.reps // 5)
        for _ in range(power_reps):
            marks = paired_comparisons(simulate_run(rng, shift=shift))
            found += any(
                not m["within_noise"] and m["value"] == SCHWARTZ_VALUES[0] and "m:a" in (m["a"], m["b"]) for m in marks
            )
        print(f"  power: one model {shift * 100:+.0f} points on one value, found in {found / power_reps:.2f} of runs")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
