"""A run whose key lives in the opt-in key file (no keyring): the key reaches the server and
nothing else: not the output, the log, the workspace, the exports or the other config files."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from tests.plugins.vlm_server import VALID_KEY
from vspectrum_app.bench.store import RunStore
from vspectrum_app.cli import main
from vspectrum_app.core import secrets
from vspectrum_app.providers.config import ProviderConfig, ProviderStore


def test_key_file_key_stays_in_the_key_file(indexed_workspace, tiny_clip, vlm_server, no_keyring, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    ProviderStore().save(
        ProviderConfig(
            name="lab",
            kind="openai-compatible",
            base_url=vlm_server.openai_base_url,
            models=["m1"],
            requests_per_minute=10_000,
            max_retries=2,
        )
    )
    secrets.set_key("lab", VALID_KEY, store="file")
    ws = str(indexed_workspace.root)
    clip = ["--clip-config", tiny_clip.config, "--clip-checkpoint", tiny_clip.checkpoint]
    assert main(["-w", ws, "bench", "run", "--values", "Power", "--k", "1", "--model", "lab:m1", *clip]) == 0
    assert vlm_server.log and all(r.key == VALID_KEY for r in vlm_server.log)  # the file's key was used
    run_id = RunStore(indexed_workspace).runs()[-1]["id"]
    for fmt in ("json", "csv", "table"):
        assert main(["-w", ws, "bench", "report", run_id, "--format", fmt]) == 0
    out, err = capfd.readouterr()
    assert VALID_KEY not in out + err + caplog.text
    indexed_workspace.db.execute("PRAGMA wal_checkpoint(FULL)")
    config = Path(os.environ["VSPECTRUM_CONFIG_DIR"])
    for path in list(indexed_workspace.root.rglob("*")) + list(config.rglob("*")):
        if path.is_file() and path != secrets.key_file():
            assert VALID_KEY.encode() not in path.read_bytes(), path
