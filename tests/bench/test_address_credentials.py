"""Issue 27 item 4: credentials in a provider's address (``http://user:pass@host/v1?api-key=...``)
are used for the requests and stored or printed nowhere: run manifest, call log, export, report
json, diagnostics, ``providers list``."""

from __future__ import annotations

import base64
import json

from tests.bench.test_engine import VALUES, reddish
from tests.plugins.vlm_server import VALID_KEY, FakeVLMServer
from vspectrum_app.bench.store import RunStore
from vspectrum_app.cli import main
from vspectrum_app.core.settings import Settings
from vspectrum_app.diagnostics import diagnostics_text
from vspectrum_app.library.catalog import open_workspace
from vspectrum_app.providers.config import ProviderConfig, ProviderStore, redact_url

PASSWORD, QUERY_SECRET = "pa55-w0rd-xyz", "QUERYSECRET123"


def test_redact_url():
    assert redact_url("http://u:p@h:8/v1?api-key=K&x=1#access_token=T") == (
        "http://[redacted]@h:8/v1?api-key=[redacted]&x=1#access_token=[redacted]"
    )
    assert redact_url("https://api.example.com/v1?api-version=2024-06-01") == (
        "https://api.example.com/v1?api-version=2024-06-01"  # not a secret: kept
    )
    assert redact_url("http://localhost:11434/v1") == "http://localhost:11434/v1"
    assert redact_url("https://h/v1?token=abc&key=&sig=s") == "https://h/v1?token=[redacted]&key=&sig=[redacted]"
    assert redact_url(None) is None
    shown = redact_url("http://u:p@[::1]:8/v1?key=K")
    assert shown == "http://[redacted]@[::1]:8/v1?key=[redacted]" and redact_url(shown) == shown


def test_credentials_in_the_address_are_sent_and_never_stored_or_printed(
    indexed_workspace, tiny_clip, monkeypatch, capsys, tmp_path
):
    basic = "Basic " + base64.b64encode(f"user:{PASSWORD}".encode()).decode()
    server = FakeVLMServer(answer=reddish, valid_keys=(basic,)).start()  # only the address's credentials pass
    monkeypatch.setenv("VSPECTRUM_API_KEY_LAB", VALID_KEY)
    address = server.openai_base_url.replace("http://", f"http://user:{PASSWORD}@") + f"?api-key={QUERY_SECRET}"
    try:
        ProviderStore().save(
            ProviderConfig(
                name="lab",
                kind="openai-compatible",
                base_url=address,
                models=["m1"],
                concurrency=4,
                requests_per_minute=10_000,
                timeout_s=5.0,
                max_retries=2,
            )
        )
        root = str(indexed_workspace.root)
        clip = ["--clip-config", tiny_clip.config, "--clip-checkpoint", tiny_clip.checkpoint]
        assert main(["-w", root, "bench", "run", "--model", "lab:m1", "--values", *VALUES, "--k", "1", *clip]) == 0
        assert server.log and all(r.key == basic and r.status == 200 for r in server.log)  # the credentials were used
        run_id = RunStore(indexed_workspace).runs()[-1]["id"]
        export = tmp_path / "calls.jsonl"
        for argv in (
            ["bench", "report", run_id, "--format", "json"],
            ["bench", "export", run_id, "--answers", str(export)],
            ["bench", "list", "--json"],
            ["providers", "list"],
            ["providers", "list", "--json"],
        ):
            assert main(["-w", root, *argv]) == 0
        printed = capsys.readouterr()
        printed_all = printed.out + printed.err + diagnostics_text(Settings.load().as_dict(), root) + export.read_text()
        assert "127.0.0.1" in printed_all and "[redacted]@" in printed_all  # the address is shown, without them
        with open_workspace(indexed_workspace.root) as ws:
            manifest = RunStore(ws).manifest(run_id)
            stored = json.dumps(manifest) + "".join(r[0] for r in ws.db.execute("SELECT request_json FROM bench_calls"))
            ws.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert manifest["providers"]["lab"]["base_url"].startswith("http://[redacted]@127.0.0.1")
        catalog_bytes = b"".join(p.read_bytes() for p in indexed_workspace.root.glob("catalog.sqlite*"))
        for secret in (PASSWORD, QUERY_SECRET, "user:"):
            assert secret not in printed_all, secret
            assert secret not in stored, secret
            assert secret.encode() not in catalog_bytes, secret
    finally:
        server.stop()
