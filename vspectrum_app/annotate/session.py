"""One annotator's walk through a task set, without a window: the order (the annotator's own,
seeded), resume (the first item with a question left), the question asked next, answering,
moving, undo and the review of one's answers. The Annotation pane and ``vspectrum annotate
next|answer|undo`` drive the same object; everything it knows is re-read from the store when
it is made, so a session made afresh for each command continues where the last one stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vspectrum_app.annotate.sampling import annotator_order, questions_for
from vspectrum_app.annotate.store import AnnotationError, AnnotationStore

QUESTION_TEXT = {
    "screenshot": "Does this screenshot reflect the value of {value}?",
    "video": "Does the video reflect the value of {value}? (open the link, then answer)",
    "representative": "Does the image represent the main content of the video?",
}


@dataclass(frozen=True)
class Step:
    """What is shown: an item, the question asked about it and this annotator's current answer to it."""

    item: dict[str, Any]
    question: str
    answer: str | None
    position: int
    total: int

    @property
    def text(self) -> str:
        return QUESTION_TEXT[self.question].format(value=self.item.get("value") or "")


class AnnotationSession:
    def __init__(self, store: AnnotationStore, set_ref: str, annotator: str, review: bool = False):
        annotator = annotator.strip()
        if not annotator:
            raise AnnotationError("annotating needs the annotator's name")
        info = store.get_set(set_ref)
        self.store, self.set_id, self.annotator, self.review = store, info["id"], annotator, review
        self.name, self.kind, self.raters = info["name"], info["kind"], info.get("raters") or 1
        self.items = annotator_order(store.items(self.set_id), self.set_id, annotator)
        self._load_answers()
        # in review mode one entry per answered question, so that the screenshot and the video
        # answer are both reviewed (an entry with a "question" key pins that question)
        self.order = self._review_order() if review else self.items
        self.position = 0 if review else (self._next_open(-1) or 0)

    def _load_answers(self) -> None:
        self.mine: dict[int, dict[str, str]] = {}  # item id -> question -> current answer
        for a in self.store.current(self.set_id, self.annotator):
            self.mine.setdefault(a["item_id"], {})[a["question"]] = a["answer"]

    def _review_order(self) -> list[dict[str, Any]]:
        return [
            {**item, "question": q}
            for item in self.items
            for q in questions_for(self.kind, item)
            if q in self.mine.get(item["id"], {})
        ]

    def _open_question(self, item: dict[str, Any]) -> str | None:
        answered = self.mine.get(item["id"], {})
        return next((q for q in questions_for(self.kind, item) if q not in answered), None)

    def _next_open(self, after: int) -> int | None:
        """The next position after ``after`` with a question left, wrapping round so that skipped items come back."""
        n = len(self.order)
        return next((p % n for p in range(after + 1, after + 1 + n) if self._open_question(self.order[p % n])), None)

    def _question(self, item: dict[str, Any]) -> str:
        return item.get("question") or self._open_question(item) or questions_for(self.kind, item)[-1]

    # -- reading ------------------------------------------------------------------------
    def current(self) -> Step | None:
        """The item and question at the current position; None when there is nothing to walk through."""
        if not self.order:
            return None
        self.position = max(0, min(self.position, len(self.order) - 1))
        item = self.order[self.position]
        question = self._question(item)
        return Step(item, question, self.mine.get(item["id"], {}).get(question), self.position, len(self.order))

    def next_open(self) -> Step | None:
        """The first item from the current position on with a question left (None: all answered)."""
        if self.review or not self.order:
            return None
        position = self._next_open(self.position - 1)
        if position is None:
            return None
        self.position = position
        return self.current()

    @property
    def done(self) -> int:
        """Items whose every question this annotator has answered."""
        return sum(1 for i in self.items if not self._open_question(i))

    def progress_text(self) -> str:
        if self.review:
            return f"Reviewing answer {self.position + 1} of {len(self.order)}"
        done, total = self.done, len(self.items)
        others = (
            f" (each item also needs {self.raters - 1} other annotator{'s' if self.raters > 2 else ''})"
            if self.raters > 1
            else ""
        )
        return f"Item {self.position + 1} of {len(self.order)}; you have finished {done} of {total}{others}" + (
            " - all done, thank you!" if done == total else ""
        )

    # -- acting -------------------------------------------------------------------------
    def move(self, step: int) -> Step | None:
        self.position += step
        return self.current()

    def goto(self, item_id: int, question: str | None = None) -> bool:
        """Move to the item (in review mode: to its answer to ``question``); False if not in the walk."""
        target = next(
            (
                n
                for n, i in enumerate(self.order)
                if i["id"] == item_id and (question is None or i.get("question", question) == question)
            ),
            None,
        )
        if target is not None:
            self.position = target
        return target is not None

    def answer(
        self,
        answer: str,
        *,
        comment: str = "",
        seconds: float | None = None,
        item_id: int | None = None,
        question: str | None = None,
    ) -> Step | None:
        """Record the answer to the current question (or to ``question`` of item ``item_id``) and
        move on: to the item's next question, else to the next item with one left; in review
        mode to the next answer. Returns what comes next."""
        if item_id is not None and not self.goto(item_id, question):
            raise AnnotationError(
                f"item {item_id} is not in task set {self.name}" + (" among your answers" if self.review else "")
            )
        step = self.current()
        if step is None:
            raise AnnotationError(f"task set {self.name} has nothing to answer")
        question = question or step.question
        if question not in questions_for(self.kind, step.item):
            raise AnnotationError(
                f"item {step.item['id']} has no {question!r} question "
                f"(it has: {', '.join(questions_for(self.kind, step.item))})"
            )
        self.store.answer(step.item["id"], self.annotator, question, answer, comment=comment, seconds=seconds)
        self.mine.setdefault(step.item["id"], {})[question] = answer
        if self.review:
            self.position += 1
        elif not self._open_question(step.item):  # else the video question follows the screenshot's
            following = self._next_open(self.position)
            self.position = self.position if following is None else following
        return self.current()

    def undo(self) -> dict[str, Any] | None:
        """Retract this annotator's latest answer in the set (the one before it, if any, is current
        again) and move to it. Returns the retracted answer, None when there was none."""
        undone = self.store.undo(self.set_id, self.annotator)
        if undone:
            self._load_answers()
            self.goto(undone["item_id"], undone["question"])
        return undone


def answered(store: AnnotationStore, set_id: str, annotator: str, item_id: int) -> set[str]:
    """The questions of an item this annotator has a current answer to."""
    return {a["question"] for a in store.current(set_id, annotator.strip()) if a["item_id"] == item_id}
