"""What a persona session shows: the paper's Tables 3-8 figures plus what the paper lacks
(intervals over trials, unparsed/refusal counts, the simulator's objective 'related' rate,
the recommender's learnt profile against the persona's intended values).

Every figure of a report is computed over the same trials: the complete ones (all their
scrolls done). A trial stopped early is listed with its scrolls and left out of all of them
(decision counts, watch rate, rates, I_avg, served content, learnt profile), so no two
figures of one report speak of different videos."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from vspectrum_app.persona.metrics import (
    MIN_CI_TRIALS,
    AlignmentSummary,
    alignment,
    difference_ci,
    format_p,
    trial_changes,
    window_problem,
)

__all__ = ["window_problem"]  # the window's check, for the Persona pane (it reaches persona through report)
from vspectrum_app.persona.store import SessionConfig, SessionStore, Step

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace

AUTO = "auto"


def session_report(ws: Workspace, session_id: str, control: str | None = AUTO) -> dict[str, Any]:
    """A session's figures; ``control``: the control session to set beside it (``"auto"``:
    the matched one in the workspace, see ``matched_control``; None: none)."""
    store = SessionStore(ws)
    cfg = store.config(session_id)
    steps = store.steps(session_id)
    by_trial: dict[int, list[Step]] = {}
    for step in steps:
        by_trial.setdefault(step.trial, []).append(step)
    trials = [by_trial[t] for t in sorted(by_trial)]
    decisions = alignment(
        [[s.decision == "yes" for s in t] for t in trials], n=cfg.window, seed=cfg.seed, length=cfg.scrolls
    )
    complete = [t for i, t in enumerate(trials) if i not in decisions.incomplete_trials]
    counted = [s for t in complete for s in t]  # the steps every figure below is computed over
    counts = Counter(s.decision for s in counted)
    defined = len(trial_changes(decisions))
    report: dict[str, Any] = {
        "session_id": session_id,
        "persona": cfg.persona["name"],
        "strategy": cfg.strategy,
        "platform": cfg.platform,
        "provider": cfg.provider,
        "model": cfg.model,
        "replay_of": cfg.replay_of,
        "trials_done": len(complete),
        "trials": cfg.trials,
        "scrolls": cfg.scrolls,
        "window": cfg.window,
        "steps": len(counted),
        "steps_recorded": len(steps),
        "decisions": {k: counts.get(k, 0) for k in ("yes", "no", "unparsed", "refusal")},
        "watch_rate": 100 * counts.get("yes", 0) / len(counted) if counted else None,
        "first_rate": decisions.first_rate,
        "last_rate": decisions.last_rate,
        "change": decisions.rate_change,
        "change_p": decisions.change_p,
        "change_p_text": format_p(decisions.change_p),
        "i_avg": decisions.i_avg,
        "i_avg_ci95": decisions.ci95,
        "i_avg_ci_note": None
        if decisions.ci95 or decisions.i_avg is None
        else f"no 95% interval: {defined} trial(s) with a defined change, {MIN_CI_TRIALS} needed for one that "
        f"holds its coverage",
        "undefined_trials": [t + 1 for t in decisions.undefined_trials],
        "incomplete_trials": [{"trial": t + 1, "scrolls": len(trials[t])} for t in decisions.incomplete_trials],
        "per_trial": [asdict(c) for c in decisions.trials],
    }
    if cfg.strategy != "control":
        report.update(_against_control(ws, session_id, cfg, decisions, control))
        vs = report["vs_control"] or {}
        report.update(
            control_session=(report["control"] or {}).get("session_id"),
            control_i_avg=(report["control"] or {}).get("i_avg"),
            minus_control=vs.get("difference"),
            minus_control_ci95=vs.get("ci95"),
        )
    if any(s.related is not None for s in counted):
        related = alignment(
            [[bool(s.related) for s in t] for t in complete], n=cfg.window, seed=cfg.seed, permutation=False
        )
        report["served_related"] = {
            "first_rate": related.first_rate,
            "last_rate": related.last_rate,
            "change": related.rate_change,
            "i_avg": related.i_avg,
            "i_avg_ci95": related.ci95,
        }
    profiles = [store.profiles(session_id, t[0].trial) for t in complete]
    learnt = [p[-1][1] for p in profiles if p]
    if learnt:
        report["learnt_profile"] = _mean_profile(learnt)
        report["intended"] = {"values": cfg.persona.get("values", []), "topics": cfg.persona.get("topics", [])}
        report["intended_rank"] = intended_ranks(report["learnt_profile"], cfg.persona)
    return report


def matched_control(ws: Workspace, session_id: str) -> str | None:
    """The control session that matches a session: same platform, trial length and window,
    and the watch rate nearest the session's own (a control run with ``--match`` has it
    exactly); the newest wins a tie. None when the workspace holds no such control."""
    store = SessionStore(ws)
    cfg = store.config(session_id)
    steps = store.steps(session_id)
    rate = sum(s.decision == "yes" for s in steps) / len(steps) if steps else cfg.control_rate
    best = None
    for s in store.list():
        if s["strategy"] != "control" or s["platform"] != cfg.platform or s["id"] == session_id:
            continue
        c = store.config(s["id"])
        if (c.scrolls, c.window) != (cfg.scrolls, cfg.window):
            continue
        distance = abs(c.control_rate - rate)
        if best is None or distance <= best[0]:  # sessions come oldest first: the newest wins a tie
            best = (distance, s["id"])
    return best[1] if best else None


def control_lines(r: dict[str, Any]) -> list[str]:
    """The report's lines on its control: I_avg beside the control's and the difference, or
    the one line saying there is no control."""
    if r["strategy"] == "control":
        return []
    lines: list[str] = []
    if not r.get("control"):
        return lines + [f"  {r.get('control_note') or 'no control session to compare with'}"]
    c, d = r["control"], r["vs_control"]

    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{v:+.1f}%"

    ci = (
        f" (95% CI {d['ci95'][0]:+.1f} to {d['ci95'][1]:+.1f})"
        if d["ci95"]
        else f" (no 95% interval: each session needs {MIN_CI_TRIALS} trials with a defined change)"
        if d["difference"] is not None
        else ""
    )
    return lines + [
        f"  control {c['session_id']} (random, watch rate {c['watch_rate'] or 0:.0f}%): I_avg {pct(c['i_avg'])}; "
        f"persona - control: {pct(d['difference'])}{ci}"
    ]


def _against_control(
    ws: Workspace, session_id: str, cfg: SessionConfig, decisions: AlignmentSummary, control: str | None
) -> dict[str, Any]:
    """The matched control beside the session, and persona - control with its interval."""
    control_id = matched_control(ws, session_id) if control == AUTO else control
    if control_id is None:
        return {
            "control": None,
            "vs_control": None,
            "control_note": f"no control session on this platform: I_avg is biased under no change; "
            f"to compare, run a Control session matched to {session_id} (strategy Control)",
        }
    ctl = session_report(ws, control_id, control=None)
    ctl_store = SessionStore(ws)
    ctl_cfg = ctl_store.config(control_id)
    ctl_trials: dict[int, list[bool]] = {}
    for step in ctl_store.steps(control_id):
        ctl_trials.setdefault(step.trial, []).append(step.decision == "yes")
    ctl_summary = alignment(
        [ctl_trials[t] for t in sorted(ctl_trials)],
        n=ctl_cfg.window,
        length=ctl_cfg.scrolls,
        permutation=False,
        seed=cfg.seed,
    )
    mine, theirs = trial_changes(decisions), trial_changes(ctl_summary)
    both = decisions.i_avg is not None and ctl_summary.i_avg is not None
    return {
        "control": {
            "session_id": control_id,
            "i_avg": ctl["i_avg"],
            "i_avg_ci95": ctl["i_avg_ci95"],
            "watch_rate": ctl["watch_rate"],
            "trials_done": ctl["trials_done"],
            "first_rate": ctl["first_rate"],
            "last_rate": ctl["last_rate"],
        },
        "vs_control": {
            "difference": decisions.i_avg - ctl_summary.i_avg
            if decisions.i_avg is not None and ctl_summary.i_avg is not None
            else None,
            "ci95": difference_ci(mine, theirs, seed=cfg.seed) if both else None,
        },
        "control_note": None,
    }


def served_mix(ws: Workspace, session_id: str, bucket: int = 10) -> list[dict[str, Any]]:
    """Share of each topic among served videos, per bucket of ``bucket`` scrolls, over the
    complete trials (the report's figures' trials; the live view shows every step as it comes)."""
    store = SessionStore(ws)
    scrolls = store.config(session_id).scrolls
    steps = store.steps(session_id)
    done = {t for t in {s.trial for s in steps} if sum(s.trial == t for s in steps) >= scrolls}
    return topic_mix([s for s in steps if s.trial in done], bucket)


def topic_mix(steps: Iterable[Step], bucket: int = 10) -> list[dict[str, Any]]:
    """``served_mix`` from steps in hand (the live view keeps them from the step events)."""
    buckets: dict[int, Counter[str]] = {}
    for s in steps:
        counter = buckets.setdefault(s.position // bucket, Counter())
        for topic in s.item_topics or ["(unknown)"]:
            counter[topic] += 1
    out = []
    for b in sorted(buckets):
        total = sum(buckets[b].values())
        out.append(
            {
                "from": b * bucket,
                "to": b * bucket + bucket - 1,
                "mix": {k: v / total for k, v in buckets[b].most_common()},
            }
        )
    return out


def cumulative_yes_rate(steps: Iterable[Step]) -> dict[int, list[float]]:
    """Per trial, the running yes-rate after each scroll (the live plot's curves)."""
    curves: dict[int, list[float]] = {}
    yes: dict[int, int] = {}
    for s in steps:
        yes[s.trial] = yes.get(s.trial, 0) + (s.decision == "yes")
        curve = curves.setdefault(s.trial, [])
        curve.append(100 * yes[s.trial] / (len(curve) + 1))
    return curves


def intended_ranks(learnt: dict[str, float], persona: dict[str, Any]) -> dict[str, int]:
    """Where each of the persona's intended values/topics stands in what the recommender
    learnt (1 = its strongest topic); those the catalogue has no topic for are left out."""
    order = {name.lower(): rank for rank, name in enumerate(sorted(learnt, key=lambda k: learnt[k], reverse=True), 1)}
    wanted = list(persona.get("values", [])) + list(persona.get("topics", []))
    return {w: order[w.lower()] for w in wanted if w.lower() in order}


def _mean_profile(profiles: list[dict[str, Any]]) -> dict[str, float]:
    """Average the recommender's topic weights over trials (keys a recommender reports)."""
    totals: Counter[str] = Counter()
    for p in profiles:
        weights = p.get("weights", p)
        for k, v in weights.items():
            if isinstance(v, (int, float)):
                totals[k] += v / len(profiles)  # type: ignore[assignment]  # float weights: typeshed counts ints
    return dict(totals.most_common())


def alignment_tables(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The paper's Tables 3-8: one table per platform x strategy with a row per session
    (model and persona), giving the yes-rate in the first and last n videos, the change and
    I_avg. A control session joins every table of its platform, as the row to compare with.
    Replays are tables of their own, beside the session they replay (when it is given)."""
    tables: dict[tuple[str, str, str | None], dict[str, Any]] = {}
    controls = [r for r in reports if r["strategy"] == "control"]
    for r in reports:
        if r["strategy"] == "control":
            continue
        key = (r["platform"], r["strategy"], r.get("replay_of"))
        title = f"{r['platform']} / {r['strategy'].upper() if r['strategy'] == 'isq' else 'Simple'}"
        if r.get("replay_of"):
            title += f" (replays of {r['replay_of']})"
        table = tables.setdefault(
            key, {"title": title, "platform": r["platform"], "strategy": r["strategy"], "rows": []}
        )
        table["rows"].append(_table_row(r))
    by_id = {r["session_id"]: r for r in reports}
    for (platform, _, replay_of), table in tables.items():
        if replay_of:
            table["rows"] += [_table_row(by_id[replay_of])] if replay_of in by_id else []
        else:
            table["rows"] += [_table_row(c) for c in controls if c["platform"] == platform]
    return list(tables.values())


def _table_row(r: dict[str, Any]) -> dict[str, Any]:
    who = "control (random, same watch rate)" if r["strategy"] == "control" else f"{r['provider']}:{r['model']}"
    return {
        "session_id": r["session_id"],
        "model": who,
        "persona": r["persona"],
        "window": r["window"],
        "trials": r["trials_done"],
        "first_rate": r["first_rate"],
        "last_rate": r["last_rate"],
        "change": r["change"],
        "change_p": r.get("change_p"),
        "change_p_text": r.get("change_p_text") or format_p(r.get("change_p")),
        "i_avg": r["i_avg"],
        "i_avg_ci95": r["i_avg_ci95"],
        "undefined_trials": len(r["undefined_trials"]),
        "incomplete_trials": len(r.get("incomplete_trials", [])),
        "control_i_avg": r.get("control_i_avg"),
        "minus_control": r.get("minus_control"),
        "minus_control_ci95": r.get("minus_control_ci95"),
    }


def format_report(r: dict[str, Any]) -> str:
    """A session report (``session_report``) as the few lines the CLI prints and the window logs."""

    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.1f}%"

    who = f"{r['provider']}:{r['model']}" if r["model"] else r["strategy"]
    p = r.get("change_p_text") or format_p(r.get("change_p"))
    lines = [
        f"{r['session_id']}: {r['persona']} / {who} / {r['strategy']} / {r['platform']}",
        f"  trials {r['trials_done']}/{r['trials']} complete, {r['steps']} videos in them; decisions {r['decisions']}",
    ]
    if r.get("incomplete_trials"):
        lines.append(
            "  left out of every figure (stopped before the end of the trial): "
            + ", ".join(
                f"trial {t['trial']} ({t['scrolls']} of {r['scrolls']} scrolls)" for t in r["incomplete_trials"]
            )
        )
    lines += [
        f"  related content (yes) first {r['window']}: {pct(r['first_rate'])}   last {r['window']}: "
        f"{pct(r['last_rate'])}   change: {pct(r['change'])}"
        + (
            f" (two-sided permutation p {p if p.startswith('<') else '= ' + p})"
            if r.get("change_p") is not None
            else ""
        ),
        f"  I_avg: {pct(r['i_avg'])}"
        + (
            f"  (95% CI {r['i_avg_ci95'][0]:.1f} to {r['i_avg_ci95'][1]:.1f})"
            if r["i_avg_ci95"]
            else f"  ({r['i_avg_ci_note']})"
            if r.get("i_avg_ci_note")
            else ""
        ),
    ]
    if r["undefined_trials"]:
        lines.append(f"  trials with no yes in the first {r['window']} (left out of I_avg): {r['undefined_trials']}")
    lines += control_lines(r)
    if "served_related" in r:
        s = r["served_related"]
        lines.append(
            f"  served on-persona content (simulator ground truth): {pct(s['first_rate'])} -> {pct(s['last_rate'])}"
        )
    if "learnt_profile" in r:
        top = ", ".join(f"{k} {v:.2f}" for k, v in list(r["learnt_profile"].items())[:5])
        ranks = r.get("intended_rank", {})
        intended = ", ".join(
            f"{w} (rank {ranks[w]} of {len(r['learnt_profile'])})" if w in ranks else w
            for w in r["intended"]["values"] + r["intended"]["topics"]
        )
        lines.append(f"  recommender learnt: {top}; intended: {intended}")
    return "\n".join(lines)


def _p_said(p: float) -> str:
    """ "= 0.123", or "< 0.0005" at the permutation test's floor (``metrics.format_p``)."""
    text = format_p(p)
    return text if text.startswith("<") else f"= {text}"


def human_summary(r: dict[str, Any]) -> str:
    """A session report (``session_report``) in plain sentences for the window's log: the same
    numbers as ``format_report``, without Python values or empty parts."""

    def pct(v: float | None) -> str:
        return "not measured" if v is None else f"{v:.1f} %"

    who = f"{r['provider']}:{r['model']}" if r["model"] else r["strategy"]
    counts = r.get("decisions") or {}
    said = ", ".join(
        f"{n} {label}"
        for key, label in (("yes", "yes"), ("no", "no"), ("unparsed", "unreadable"), ("refusal", "refused"))
        if (n := counts.get(key))
    )
    lines = [
        f"Session {r['session_id']}: {r['persona']} with {who} ({r['strategy']}, {r['platform']})",
        f"  {r['trials_done']} of {r['trials']} trials, {r['steps']} videos; answers: {said or 'none yet'}",
        f"  related content (yes) in the first {r['window']} videos: {pct(r['first_rate'])}, in the last "
        f"{r['window']}: {pct(r['last_rate'])}, change: {pct(r['change'])}"
        + (f" (permutation p {_p_said(r['change_p'])})" if r.get("change_p") is not None else ""),
        f"  I_avg: {pct(r['i_avg'])}"
        + (f" (95 % interval {r['i_avg_ci95'][0]:.1f} to {r['i_avg_ci95'][1]:.1f})" if r["i_avg_ci95"] else ""),
    ]
    if r["undefined_trials"]:
        trials = ", ".join(str(t) for t in r["undefined_trials"])
        lines.append(f"  trials with no yes in the first {r['window']} videos (left out of I_avg): {trials}")
    lines += [line.replace("n/a", "not measured") for line in control_lines(r)]
    if "served_related" in r:
        s = r["served_related"]
        lines.append(
            f"  on-persona content served (the simulator's own record): {pct(s['first_rate'])} at first, "
            f"{pct(s['last_rate'])} at the end"
        )
    learnt = list((r.get("learnt_profile") or {}).items())[:5]
    if learnt:
        lines.append("  the recommender learnt most: " + ", ".join(f"{k} ({v:.2f})" for k, v in learnt))
        ranks = r.get("intended_rank", {})
        intended = [
            f"{w} (rank {ranks[w]} of {len(r['learnt_profile'])})" if w in ranks else w
            for w in r["intended"]["values"] + r["intended"]["topics"]
        ]
        if intended:
            lines.append("  the persona's own: " + ", ".join(intended))
    return "\n".join(lines)


def live_summary(steps: list[Step], calls: int = 0, cost: str = "") -> str:
    """The running counts of a session as the Persona pane shows them (and the CLI's progress
    could): videos and decisions, then the model calls made and what they cost so far."""
    c = {d: sum(s.decision == d for s in steps) for d in ("yes", "no", "unparsed", "refusal")}
    text = f"{len(steps)} videos: {c['yes']} yes, {c['no']} no, {c['unparsed']} unclear, {c['refusal']} refusals"
    return text + (f"; {calls} model calls, {cost}" if calls else "")
