"""The suite's test material: fixtures and the real things tests run against (generated images
and workspaces, a tiny real CLIP model, the local VLM test server, the simulated platform, an
in-memory keyring, the Chromium fixture).

perf/ and packaging/ may import these modules, and nothing else from tests/; these modules import
no other test module. pyproject.toml's import contracts and tests/test_static_checks.py enforce
both (docs/architecture.md). Test doubles live here or in a test, never in vspectrum_app/.
"""
