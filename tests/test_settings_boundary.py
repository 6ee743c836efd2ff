"""Only the entry points read the user's settings (issue 25, item 5): the cli modules and the
window load ``core.settings.Settings`` and hand what it holds to the jobs as parameters, so a
job does what its parameters say whatever the settings file holds.

The static check reads every module of the app outside the entry points and fails with the
file:line of each import of ``core.settings`` (the module defines ``Settings`` and reads it
for ``default_workspace``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from vspectrum_app.core.settings import Settings

APP = Path(__file__).resolve().parents[1] / "vspectrum_app"
SETTINGS_MODULE = "vspectrum_app.core.settings"


def is_entry_point(rel: Path) -> bool:
    """``rel`` relative to the package's parent: the CLI (its root and each part's cli module),
    ``python -m``, the window, and the settings module itself."""
    parts = rel.parts[1:]
    return rel.name == "cli.py" or parts in (("__main__.py",), ("core", "settings.py")) or parts[0] == "gui"


def settings_reads(root: Path = APP) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent)
        if is_entry_point(rel):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if any(n == SETTINGS_MODULE or n.startswith(SETTINGS_MODULE + ".") for n in names):
                found.append(f"{rel}:{node.lineno}")
    return found


def test_the_check_sees_every_import_form(tmp_path):
    app = tmp_path / "vspectrum_app"
    for folder in ("library", "gui", "bench"):
        (app / folder).mkdir(parents=True)
    (app / "library" / "search.py").write_text(
        "from vspectrum_app.core.settings import Settings\n"
        "import vspectrum_app.core.settings\n"
        "from vspectrum_app.core import settings\n"
        "def f():\n    from vspectrum_app.core.settings import default_workspace\n"
    )
    (app / "gui" / "context.py").write_text("from vspectrum_app.core.settings import Settings\n")
    (app / "bench" / "cli.py").write_text("from vspectrum_app.core.settings import Settings\n")
    (app / "bench" / "ops.py").write_text("from vspectrum_app.core import jobs\n")
    assert settings_reads(app) == [
        "vspectrum_app/library/search.py:1",
        "vspectrum_app/library/search.py:2",
        "vspectrum_app/library/search.py:3",
        "vspectrum_app/library/search.py:5",
    ]


def test_only_the_entry_points_read_the_settings():
    found = settings_reads()
    assert not found, (
        "read the settings in the cli module or the window and pass the values in the job's parameters "
        "(core.operations.with_settings): " + ", ".join(found)
    )


@pytest.fixture
def hostile_settings(tmp_path):
    """A settings file naming a model, a device and a browser that are not there."""
    s = Settings.load()
    s.update(
        clip_model="RN50-not-here",
        clip_pretrained="nowhere",
        clip_device="cuda-not-here",
        clip_backend="tensorflow",
        browser_executable=str(tmp_path / "no-browser"),
        crawl_delay_s=99.0,
    )
    s.save()
    return s


def test_a_job_does_what_its_parameters_say_whatever_the_settings_hold(hostile_settings, tiny_clip):
    from vspectrum_app.core.jobs import NullReporter
    from vspectrum_app.library import ops

    params = ops.Model(clip=ops.ClipOptions.of(tiny_clip))
    info = ops.run(params, None, NullReporter())  # type: ignore[arg-type]  # the model check needs no workspace
    assert info.model_key == tiny_clip.model_key
    assert info.backend.startswith(("torch", "ONNX", "OpenVINO")), info.backend


def test_unset_parameters_are_the_documented_defaults_not_the_settings(hostile_settings):
    from vspectrum_app.crawl.ops import Crawl
    from vspectrum_app.encoders.backends import configured_backend
    from vspectrum_app.encoders.device import configured_device
    from vspectrum_app.encoders.embedder import ClipSpec
    from vspectrum_app.library.ops import ClipOptions
    from vspectrum_app.persona.ops import BrowserOptions, _run_options

    assert ClipOptions().spec() == ClipSpec()
    assert configured_device() == "auto" and configured_backend() == "auto"
    assert _run_options(BrowserOptions(headless=True)).browser is None
    assert Crawl(platform="tiktok").delay is None


def test_the_entry_point_fills_unset_parameters_from_the_settings(hostile_settings, tmp_path):
    from vspectrum_app.core.operations import with_settings
    from vspectrum_app.crawl.ops import Crawl
    from vspectrum_app.library.ops import ClipOptions, Index
    from vspectrum_app.persona.ops import Resume

    values = hostile_settings.as_dict()
    index = with_settings(Index(), values)
    assert index.clip.spec().model == "RN50-not-here" and index.clip.spec().pretrained == "nowhere"
    assert (index.backend.backend, index.backend.device) == ("tensorflow", "cuda-not-here")
    given = with_settings(Index(clip=ClipOptions(clip_model="ViT-B-16")), values).clip.spec()
    assert (given.model, given.pretrained) == ("ViT-B-16", "nowhere")  # a flag overrides one field
    crawl = with_settings(Crawl(platform="tiktok"), values)
    assert crawl.delay == 99.0 and crawl.browser == str(tmp_path / "no-browser")
    assert with_settings(Crawl(platform="sim"), values).delay is None  # the simulator needs no delay
    given_crawl = with_settings(Crawl(platform="tiktok", delay=0.5, browser="/b"), values)
    assert (given_crawl.delay, given_crawl.browser) == (0.5, "/b")
    assert with_settings(Resume(sessions=("s",)), values).run_options.browser == str(tmp_path / "no-browser")


def test_a_random_init_model_survives_the_trip_through_options():
    from vspectrum_app.core.operations import from_args, to_argv
    from vspectrum_app.encoders.embedder import ClipSpec
    from vspectrum_app.library.ops import ClipOptions, Model

    for spec in (
        ClipSpec(),
        ClipSpec(model="ViT-B-16", pretrained=None),
        ClipSpec(model="m", pretrained=None, config="c.json"),
    ):
        options = ClipOptions.of(spec)
        assert options.spec() == spec
        assert with_settings_free_roundtrip(options, Model, from_args, to_argv).clip.spec() == spec


def with_settings_free_roundtrip(options, op, from_args, to_argv):
    from vspectrum_app.cli import build_parser

    argv = to_argv(op(clip=options))
    return from_args(op, build_parser().parse_args(argv))
