"""Benchmark runs written straight into a workspace's run store (no model asked): a run whose
answers are given per value and image, for tests of reports, comparisons and figures."""

from __future__ import annotations

from vspectrum_app.bench.store import RunStore

TEXT = {"yes": "Yes.", "no": "No.", "refusal": "I'm sorry, I can't help with that.", "unparsed": "Subjective"}


def make_run(ws, answers: dict[str, list[str]], target: str = "lab:m1", images: str = "img", repeats: int = 1) -> str:
    """``answers``: value -> one answer class per image (image i of a value has the content
    hash ``{images}-{value}-{i}``, so two runs built with the same ``images`` share images);
    each image is answered ``repeats`` times, alike."""
    store = RunStore(ws)
    items = [
        {
            "target": target,
            "mode": "vlm",
            "value": value,
            "keyword": "k",
            "rank": i,
            "image_id": i,
            "image_sha256": f"{images}-{value}-{i}",
            "repeat": r,
        }
        for value, classes in answers.items()
        for i in range(len(classes))
        for r in range(repeats)
    ]
    run_id = store.create_run({"seed": 0, "targets_label": [target], "values": list(answers)}, items)
    rows = store.items(run_id, status=None)
    classes = {(a["value"], a["image_sha256"]): c for a in items for c in [answers[a["value"]][a["rank"]]]}
    store.finish_items(
        [
            (
                r["id"],
                classes[(r["value"], r["image_sha256"])],
                [TEXT[classes[(r["value"], r["image_sha256"])]], "why", "what"],
            )
            for r in rows
        ]
    )
    store.set_status(run_id, "done")
    return run_id


def shares(scores: dict[str, float], n: int = 50) -> dict[str, list[str]]:
    """value -> n answers whose yes-share is the given score (in %, a multiple of 100 / n)."""
    out = {}
    for value, score in scores.items():
        yes = round(score * n / 100)
        assert abs(yes * 100 / n - score) < 1e-9, f"{score} is not k/{n}"
        out[value] = ["yes"] * yes + ["no"] * (n - yes)
    return out
