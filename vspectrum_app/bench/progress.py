"""A run's progress in words, from the engine's status (the ``run_status`` event): the one line
the CLI's progress and the Benchmark pane both show; and how a run's execution ended (the
``bench run``/``resume`` job's result)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from vspectrum_app.core.jobs import format_duration


def status_text(s: Mapping[str, Any]) -> str:
    """Items done of all, the calls made (sent and found in the workspace), the calls still to
    send (the estimate's count less those sent), the time left, the cost so far, the problems."""
    sent, cached = s.get("calls_sent", 0), s.get("calls_cached", 0)
    retries = f", {s['retries']} of them retries" if s.get("retries") else ""
    done, total = s.get("items_done", 0), s.get("items_total", 0)
    text = (
        f"{done}/{total} items done; {sent + cached} calls made ({sent} sent{retries}, {cached} from the "
        f"workspace), ~{s.get('calls_left', 0)} to go"
    )
    if done < total:
        text += f"; about {format_duration(s.get('eta_s', 0.0))} left (rate limits included)"
    if s.get("cost"):
        text += f"; {s['cost']} so far"
    if s.get("refusal") or s.get("unparsed") or s.get("errors"):
        text += f". {s.get('refusal', 0)} refusals, {s.get('unparsed', 0)} unparsed, {s.get('errors', 0)} errors"
    return text


@dataclass(frozen=True)
class RunOutcome:
    """How an execution of a run ended (``bench.ops.Run``'s and ``Resume``'s result type)."""

    run_id: str
    status: str  # done, stopped
    done: int
    errors: int  # items left
    sent: int  # calls actually sent (cache misses)
    cached: int  # calls answered from the workspace
    problems: tuple[str, ...] = ()
