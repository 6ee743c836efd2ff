"""The run engine with the real openai and anthropic SDKs against a local HTTP server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
from vspectrum_app.bench.report import run_report
from vspectrum_app.bench.store import RunStore
from vspectrum_app.cli import main
from vspectrum_app.providers.config import ProviderConfig, ProviderStore
from vspectrum_app.providers.ratelimit import RateLimiter

ROOT = Path(__file__).resolve().parents[2]
VALUES = ["Power", "Hedonism"]


def reddish(req):
    """A scripted model: likes images whose red channel dominates; from text alone, nothing."""
    if req.question.startswith("Describe"):
        return "A coloured picture."
    if req.question.startswith("Why"):
        return "Because of the colours."
    if req.image is None:
        return "No."
    r, g, _ = req.image_rgb_mean()
    return "Yes." if r > g else "No."


@pytest.fixture
def server():
    s = FakeVLMServer(answer=reddish).start()
    yield s
    s.stop()


def _provider(server, name="lab", kind="openai-compatible", **kw):
    base = server.openai_base_url if kind != "anthropic" else server.url
    config = ProviderConfig(
        name=name,
        kind=kind,
        base_url=base,
        models=["m1"],
        concurrency=4,
        requests_per_minute=10_000,
        timeout_s=2.0,
        max_retries=4,
        **kw,
    )
    ProviderStore().save(config)
    return config


def _run(ws, tiny_clip, *extra, values=VALUES, k=1):
    args = [
        "-w",
        str(ws.root),
        "bench",
        "run",
        "--values",
        *values,
        "--k",
        str(k),
        "--clip-config",
        tiny_clip.config,
        "--clip-checkpoint",
        tiny_clip.checkpoint,
        *extra,
    ]
    return main(args)


def _expected(ws, run_id, target):
    """What the scripted model must have said, from the images themselves."""
    from PIL import Image, ImageStat

    expected = {}
    for item in RunStore(ws).items(run_id):
        if item["target"] != target:
            continue
        row = ws.db.execute("SELECT sha256, ext FROM images WHERE id = ?", (item["image_id"],)).fetchone()
        r, g, _ = ImageStat.Stat(Image.open(ws.image_path(*row)).convert("RGB")).mean
        expected.setdefault(item["value"], []).append(r > g)
    return {v: 100 * sum(x) / len(x) for v, x in expected.items()}


@pytest.mark.parametrize("kind", ["openai-compatible", "anthropic"])
def test_run_scores_match_the_scripted_model(indexed_workspace, tiny_clip, server, monkeypatch, kind, capsys):
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server, kind=kind)
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1") == 0
    run_id = RunStore(indexed_workspace).runs()[-1]["id"]
    report = run_report(indexed_workspace, run_id)
    got = {s["value"]: s["score"] for s in report["scores"]}
    assert got == pytest.approx(_expected(indexed_workspace, run_id, "lab:m1"))
    assert report["progress"] == {"done": 20, "total": 20, "errors": 0, "no_image": 0}
    item = RunStore(indexed_workspace).items(run_id)[0]
    assert item["answer2"] == "Because of the colours." and item["answer3"] == "A coloured picture."
    # the conversation: three turns, image on the first, the paper's questions verbatim
    first = [r for r in server.log if r.turn == 1][0]
    third = [r for r in server.log if r.turn == 3][0]
    assert first.image is not None and first.question.startswith("Do you like the content of this image?")
    assert third.question == "Describe this image in English briefly."
    shas = {i["image_sha256"] for i in RunStore(indexed_workspace).items(run_id)}
    assert len(server.log) == 3 * len(shas)  # an image found for both values is asked about once
    manifest = report["manifest"]
    assert manifest["keyword_set"]["hash"] and manifest["prompts"]["like"].startswith("Do you like")
    shas = {i["image_sha256"] for i in RunStore(indexed_workspace).items(run_id)}
    assert manifest["images"] == sorted(shas) and manifest["clip"]["model_key"] == tiny_clip.model_key


def test_provider_with_bare_model_names_and_index_hash(indexed_workspace, tiny_clip, server, monkeypatch, capsys):
    from tests.plugins.library import make_image_bytes
    from vspectrum_app.library.importer import add_image
    from vspectrum_app.library.indexer import build_index

    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    monkeypatch.setenv("VSPECTRUM_API_KEY_GOOD", VALID_KEY)
    _provider(server, name="lab")
    _provider(server, name="good", kind="anthropic")
    # the syntax; a ':' inside a bare name stays part of it (Ollama tags); PROVIDER:MODEL still works
    assert (
        _run(
            indexed_workspace,
            tiny_clip,
            "--provider",
            "lab",
            "--model",
            "m1",
            "--model",
            "llama3:8b",
            "--model",
            "good:m1",
            values=["Power"],
        )
        == 0
    )
    manifest = RunStore(indexed_workspace).manifest(RunStore(indexed_workspace).runs()[-1]["id"])
    assert manifest["targets"] == ["lab:m1", "lab:llama3:8b", "good:m1"]
    assert {(r.model, r.api) for r in server.log} == {("m1", "openai"), ("llama3:8b", "openai"), ("m1", "anthropic")}
    assert _run(indexed_workspace, tiny_clip, "--model", "m1", values=["Power"]) == 1
    assert "expected PROVIDER:MODEL (or a model name with --provider NAME)" in capsys.readouterr().err
    # the manifest names the index content: the same for an unchanged index, another one after an import
    assert len(manifest["index_hash"]) == 64
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", values=["Power"]) == 0
    assert (
        RunStore(indexed_workspace).manifest(RunStore(indexed_workspace).runs()[-1]["id"])["index_hash"]
        == manifest["index_hash"]
    )
    add_image(indexed_workspace, make_image_bytes(seed=999), source_name="new.jpg")
    build_index(indexed_workspace, tiny_clip)
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", values=["Power"]) == 0
    assert (
        RunStore(indexed_workspace).manifest(RunStore(indexed_workspace).runs()[-1]["id"])["index_hash"]
        != manifest["index_hash"]
    )


def test_repeated_run_sends_nothing_and_fresh_does(indexed_workspace, tiny_clip, server, monkeypatch):
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server)
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1") == 0
    sent = len(server.log)
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1") == 0
    assert len(server.log) == sent  # served from the workspace
    runs = RunStore(indexed_workspace).runs()
    assert [r["done"] for r in runs] == [20, 20]
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", "--fresh") == 0
    assert len(server.log) == 2 * sent
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", "--repeats", "2") == 0
    assert len(server.log) == 3 * sent  # repeat 0 cached, repeat 1 sampled anew


def test_faults_are_retried_and_refusals_recorded(indexed_workspace, tiny_clip, server, monkeypatch):
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server)
    server.inject(("429", 0.2), ("500",), ("timeout", 3.0), ("drop",), ("malformed",), ("refusal",))
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", values=["Power"]) == 0
    run_id = RunStore(indexed_workspace).runs()[-1]["id"]
    items = RunStore(indexed_workspace).items(run_id, status=None)
    assert all(i["status"] == "done" for i in items)
    classes = [i["answer_class"] for i in items]
    assert classes.count("refusal") == 1
    faults = [r.fault for r in server.log if r.fault]
    assert faults == ["429", "500", "timeout", "drop", "malformed", "refusal"]
    retry_after = [r for r in server.log if r.fault == "429"][0]
    following = server.log[server.log.index(retry_after) + 1 :]
    # the same request was not sent again before its Retry-After elapsed
    same = [r for r in following if r.body == retry_after.body][0]
    assert same.time - retry_after.time >= 0.2


def test_rejected_key_stops_that_provider_with_a_clear_message(
    indexed_workspace, tiny_clip, server, monkeypatch, capsys
):
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", "sk-wrong-key-0000000000")
    monkeypatch.setenv("VSPECTRUM_API_KEY_GOOD", VALID_KEY)
    _provider(server, name="lab")
    _provider(server, name="good", kind="anthropic")
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", "--model", "good:m1") == 1
    err = capsys.readouterr().err
    assert "key rejected by lab (openai-compatible): update it in Settings" in err
    assert "sk-wrong-key" not in err
    run = RunStore(indexed_workspace).runs()[-1]
    assert run["status"] == "stopped" and run["done"] == 20  # the other provider finished
    bad = [r for r in server.log if r.api == "openai"]
    assert len(bad) <= 4  # stopped at once, not once per item
    # a fixed key resumes exactly the missing half
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    assert main(["-w", str(indexed_workspace.root), "bench", "resume", run["id"]]) == 0
    assert RunStore(indexed_workspace).runs()[-1]["done"] == 40


def test_key_never_reaches_logs_exports_or_catalog(indexed_workspace, tiny_clip, server, monkeypatch, capfd):
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server)
    server.inject(("500",), ("429", 0))
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", "--dry-run") == 0
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1") == 0
    run_id = RunStore(indexed_workspace).runs()[-1]["id"]
    for fmt in ("json", "csv", "table"):
        assert main(["-w", str(indexed_workspace.root), "bench", "report", run_id, "--format", fmt]) == 0
    out, err = capfd.readouterr()
    assert VALID_KEY not in out + err
    indexed_workspace.db.execute("PRAGMA wal_checkpoint(FULL)")
    for path in list(indexed_workspace.root.rglob("*")) + list(Path(os.environ["VSPECTRUM_CONFIG_DIR"]).rglob("*")):
        if path.is_file():
            assert VALID_KEY.encode() not in path.read_bytes(), path


def test_dry_run_estimates_without_sending(indexed_workspace, tiny_clip, server, monkeypatch, capsys):
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server, price_input_per_mtok=2.5, price_output_per_mtok=10.0)
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", "--dry-run") == 0
    err = capsys.readouterr().err
    # 20 items (2 values x 10 keywords x k=1) over 11 distinct images: 11 conversations of 3 calls
    assert err.startswith("20 items: 33 calls to send (each image asked once); ~") and "~$0.09" in err
    assert server.log == [] and RunStore(indexed_workspace).runs() == []
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1") == 0
    assert len(server.log) == 33  # the estimate is what the run sent
    # each logged call's cost, from the provider's price and the tokens the server counted
    run_id = RunStore(indexed_workspace).runs()[-1]["id"]
    export = indexed_workspace.root / "calls.jsonl"
    assert main(["-w", str(indexed_workspace.root), "bench", "export", run_id, "--answers", str(export)]) == 0
    rows = [json.loads(line) for line in export.read_text().splitlines()]
    assert len({(r["turn"], r["messages"]) for r in rows}) == 33
    for r in rows:  # the test server counts 100 input tokens and a token per word of the answer
        assert r["cost_usd"] == pytest.approx((100 * 2.5 + len(r["response_text"].split()) * 10.0) / 1e6)
        assert r["truncated"] is False
    capsys.readouterr()
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", "--dry-run") == 0
    err = capsys.readouterr().err
    assert err.startswith(
        "20 items: 0 calls to send (each image asked once, 33 more already answered in the workspace)"
    )
    assert "output tokens; $0.00; ~0s at the configured limits" in err


def test_modality_comparison(indexed_workspace, tiny_clip, server, monkeypatch):
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server)
    assert (
        _run(
            indexed_workspace,
            tiny_clip,
            "--model",
            "lab:m1",
            "--describe-with",
            "lab:describer",
            "--text-model",
            "lab:textonly",
            values=["Power"],
        )
        == 0
    )
    run_id = RunStore(indexed_workspace).runs()[-1]["id"]
    report = run_report(indexed_workspace, run_id)
    arms = {(s["target"], s["mode"]) for s in report["scores"]}
    assert arms == {("lab:m1", "vlm"), ("lab:m1", "text"), ("lab:textonly", "text")}
    describe_calls = [r for r in server.log if r.model == "describer"]
    assert len(describe_calls) == 10  # once per image, shared by both text arms
    text_calls = [r for r in server.log if r.model == "textonly"]
    assert all(r.image is None for r in text_calls)
    assert text_calls[0].question.startswith("Here is a description of an image:\n\nA coloured picture.")


def test_kill_9_then_resume_loses_and_repeats_nothing(indexed_workspace, tiny_clip, monkeypatch):
    server = FakeVLMServer(answer=reddish, latency_s=0.05).start()
    try:
        _provider(server)
        env = {**os.environ, "VSPECTRUM_API_KEY_LAB": VALID_KEY}
        indexed_workspace.close()
        cmd = [
            sys.executable,
            "-m",
            "vspectrum_app",
            "--events",
            "-w",
            str(indexed_workspace.root),
            "bench",
            "run",
            "--model",
            "lab:m1",
            "--values",
            *VALUES,
            "--k",
            "1",
            "--clip-config",
            tiny_clip.config,
            "--clip-checkpoint",
            tiny_clip.checkpoint,
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
        answers = 0
        for line in proc.stdout:
            if json.loads(line)["type"] == "answer":
                answers += 1
                if answers == 6:
                    break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        from vspectrum_app.library.catalog import open_workspace

        ws = open_workspace(indexed_workspace.root)
        run_id = RunStore(ws).runs()[-1]["id"]
        # done marks are written in batches; what must survive is every answered call
        calls_before_kill = ws.db.execute("SELECT COUNT(*) FROM bench_calls").fetchone()[0]
        assert 3 * 6 <= calls_before_kill < 60
        finished_before = {
            _signature_of_logged(json.loads(r[0])) for r in ws.db.execute("SELECT request_json FROM bench_calls")
        }
        sent_before = len(server.log)
        resumed = subprocess.run(
            [sys.executable, "-m", "vspectrum_app", "-w", str(ws.root), "bench", "resume", run_id],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        assert resumed.returncode == 0, resumed.stderr
        assert RunStore(ws).runs()[-1]["done"] == 20
        # Nothing finished before the kill was sent again (only calls in flight at the kill
        # can be, their answers never having arrived), and every call is logged exactly once.
        resent = [r for r in server.log[sent_before:] if _signature_of_request(r) in finished_before]
        assert resent == []
        logged = [r[0] for r in ws.db.execute("SELECT cache_key FROM bench_calls")]
        images = {i["image_sha256"] for i in RunStore(ws).items(run_id)}
        assert len(logged) == len(set(logged)) == 3 * len(images)
        got = {s["value"]: s["score"] for s in run_report(ws, run_id)["scores"]}
        assert got == pytest.approx(_expected(ws, run_id, "lab:m1"))
        ws.close()
    finally:
        server.stop()


def _signature_of_logged(request: dict) -> tuple:
    return tuple((m["role"], m["text"], m["image_sha256"]) for m in request["messages"])


def _signature_of_request(req) -> tuple:
    import hashlib

    out = []
    for i, m in enumerate(req.body["messages"]):
        content = m["content"]
        text = content if isinstance(content, str) else next(p["text"] for p in content if p["type"] == "text")
        has_image = not isinstance(content, str) and any(p["type"] == "image_url" for p in content)
        out.append((m["role"], text, hashlib.sha256(req.image).hexdigest() if has_image else None))
    return tuple(out)


def test_rate_limit_holds_in_every_window(indexed_workspace, tiny_clip, server, monkeypatch):
    """A short window (2 s, 5 requests) so the test is quick; the logic is the same at 60 s."""
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    _provider(server)
    original = RateLimiter.__init__

    def short_window(self, rpm, tpm=None, window_s=60.0, clock=None, shared=None):
        original(self, 5, tpm, window_s=2.0, shared=shared)

    monkeypatch.setattr(RateLimiter, "__init__", short_window)
    assert _run(indexed_workspace, tiny_clip, "--model", "lab:m1", values=["Power"], k=1) == 0
    times = sorted(r.time for r in server.log)
    assert len(times) == 30
    for i, t in enumerate(times):
        in_window = [round(u - times[0], 3) for u in times[i:] if u < t + 2.0]
        assert len(in_window) <= 5, in_window
    # that it does not wait longer than the limit needs is checked on a simulated clock
    # (test_rate_limiter_with_a_simulated_clock); its wall time is measured in perf/engine_throughput.py


def _simulate(limiter_kwargs: dict, tokens: int, n: int, gap_s: float) -> list[float]:
    """Start times of ``n`` acquisitions on a simulated clock (sleeping advances it)."""
    import vspectrum_app.providers.ratelimit as rl

    now = [0.0]

    async def fake_sleep(s):
        now[0] += s

    async def scenario():
        limiter = RateLimiter(clock=lambda: now[0], **limiter_kwargs)
        starts = []
        for _ in range(n):
            await limiter.acquire(tokens)
            starts.append(now[0])
            now[0] += gap_s
        return starts

    original = rl.asyncio.sleep
    rl.asyncio.sleep = fake_sleep
    try:
        return asyncio.run(scenario())
    finally:
        rl.asyncio.sleep = original


def test_rate_limiter_with_a_simulated_clock():
    starts = _simulate({"requests_per_minute": 10}, tokens=0, n=35, gap_s=0.5)
    for i, t in enumerate(starts):
        assert sum(1 for u in starts[i:] if u < t + 60) <= 10
    assert starts[-1] < 4 * 60.25  # and no slower than needed


def test_tokens_per_minute_with_a_simulated_clock():
    starts = _simulate({"requests_per_minute": 1000, "tokens_per_minute": 3000}, tokens=1000, n=10, gap_s=0.0)
    for i, t in enumerate(starts):
        assert 1000 * sum(1 for u in starts[i:] if u < t + 60) <= 3000
    assert starts[3] >= 60  # the fourth request waited for the window


def test_keys_and_providers_from_the_cli(memory_keyring, server, monkeypatch, capsys):
    import io

    assert (
        main(
            [
                "providers",
                "add",
                "lab",
                "--kind",
                "openai-compatible",
                "--base-url",
                server.openai_base_url,
                "--model",
                "m1",
                "--rpm",
                "30",
            ]
        )
        == 0
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("sk-wrong-key-1234567890\n"))
    assert main(["keys", "set", "lab"]) == 0
    assert memory_keyring.store[("vspectrum", "lab")] == "sk-wrong-key-1234567890"
    assert main(["providers", "test", "lab"]) == 1
    err = capsys.readouterr().err
    assert "key rejected by lab" in err and "sk-wrong" not in err
    monkeypatch.setattr("sys.stdin", io.StringIO(VALID_KEY + "\n"))
    assert main(["keys", "set", "lab"]) == 0
    assert main(["providers", "test", "lab"]) == 0
    assert "m1 answered" in capsys.readouterr().out
    assert main(["keys", "status"]) == 0
    out = capsys.readouterr().out
    assert "lab: set (keyring)" in out and VALID_KEY not in out
