"""The ``vspectrum`` command: every job of the app runs headless from here.

Each part of the app registers its own command group (``register(subparsers)`` in its
``cli`` module); this file only holds the global options and the dispatch. Group modules
must stay cheap to import: torch, open_clip, playwright and Qt load inside the handlers.

Exit codes: 0 success, 1 error (one clear sentence on stderr), 2 usage, 130 cancelled.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from vspectrum_app import __version__
from vspectrum_app.core.errors import UserError
from vspectrum_app.core.jobs import Cancelled, JsonLinesReporter, Reporter, TerminalReporter
from vspectrum_app.core.operations import EVENTS_FLAG, WORKSPACE_FLAG, Operation, Options, from_args, with_settings
from vspectrum_app.core.wire import to_wire
from vspectrum_app.core.processes import become_group_leader

if TYPE_CHECKING:
    from vspectrum_app.core.workspace import Workspace

# Modules with register(subparsers), one per command group, by the commands each registers.
# Add a line to add a group. A command line naming one of these commands builds that group's
# parser alone: importing every group's operations (bench, crawl, persona, ...) was a fifth of
# a cold `library search` (``command_of``).
GROUPS: dict[str, tuple[str, ...]] = {
    "vspectrum_app.library.cli": ("library",),
    "vspectrum_app.providers.cli": ("keys", "providers"),
    "vspectrum_app.bench.cli": ("bench",),
    "vspectrum_app.persona.cli": ("persona",),
    "vspectrum_app.annotate.cli": ("annotate",),
    "vspectrum_app.sim.cli": ("sim",),
    "vspectrum_app.crawl.cli": ("crawl",),
}

OptionsT = TypeVar("OptionsT", bound=Options)


@dataclass
class Context:
    """The ``core.command.CommandContext`` every command handler gets."""

    args: argparse.Namespace
    reporter: Reporter
    _workspace: Workspace | None = field(default=None, repr=False)

    def workspace(self, create: bool = True) -> Workspace:
        if self._workspace is None:
            from vspectrum_app.core.settings import default_workspace
            from vspectrum_app.library.catalog import open_workspace

            root = Path(self.args.workspace) if self.args.workspace else default_workspace()
            self._workspace = open_workspace(root, create=create)
        return self._workspace

    @cached_property
    def settings(self) -> dict[str, Any]:
        """The user's settings (read here, at the entry point, once; the parts get them as parameters)."""
        from vspectrum_app.core.settings import Settings

        return Settings.load().as_dict()

    def params(self, cls: type[OptionsT], args: argparse.Namespace) -> OptionsT:
        """The command's options as ``cls``, what they leave unset taken from the settings."""
        return with_settings(from_args(cls, args), self.settings)

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    def print_json(self, obj: Any) -> None:
        """A command's result: pretty JSON, or one ``result`` event in the --events stream."""
        if self.args.events:
            self.reporter.emit("result", data=obj)
        else:
            print(json.dumps(obj, indent=2, default=str, ensure_ascii=False))

    def result(self, params: Operation, value: Any) -> bool:
        """With ``--events``, ``value`` as the job's ``result`` event (True); it must be the
        operation's declared ``result_type``, which the window reads it back into."""
        if not self.args.events:
            return False
        expected = type(params).result_type
        if expected is None or not isinstance(value, expected):
            raise TypeError(f"{type(params).__name__} declares {expected!r} as its result, not {type(value)!r}")
        self.reporter.emit("result", data=to_wire(value))
        return True

    def show(self, params: Operation, value: Any, text: Callable[[], str]) -> None:
        """An operation's result: the job's ``result`` event (``--events``), JSON (``--json``) or ``text()``."""
        if self.result(params, value):
            return
        print(json.dumps(to_wire(value), indent=2, ensure_ascii=False) if self.json else text())

    def close(self) -> None:
        if self._workspace is not None:
            self._workspace.close()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``command`` (a group's command name), only that group is
    registered (the same subparser the whole parser has for it)."""
    parser = argparse.ArgumentParser(
        prog="vspectrum",
        description="Value-Spectrum Studio: measure the value preferences of vision-language models. "
        "Run with no command to open the app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        WORKSPACE_FLAG,
        "-w",
        metavar="DIR",
        help="workspace folder (default: $VSPECTRUM_WORKSPACE or the user data folder)",
    )
    parser.add_argument(
        EVENTS_FLAG, action="store_true", help="report progress as JSON lines on stdout (used by the app's job runner)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module, commands in GROUPS.items():
        if command is None or command in commands:
            importlib.import_module(module).register(sub)
    p = sub.add_parser("diagnostics", help="what a bug report needs (versions, folders, providers; never a key)")
    p.set_defaults(func=cmd_diagnostics)
    return parser


def cmd_diagnostics(args: argparse.Namespace, ctx: Context) -> int:
    """The text of the window's Help > Copy diagnostics, for the settings and workspace in use."""
    from vspectrum_app.core.settings import SettingsError, default_workspace
    from vspectrum_app.diagnostics import diagnostics_text

    try:
        settings, extra, root = ctx.settings, [], args.workspace or default_workspace()
    except SettingsError as exc:  # the text is what one sends when things are broken: it still comes
        settings, extra, root = {}, [f"Settings: {exc}"], args.workspace
    sys.stdout.write(diagnostics_text(settings, root, extra))
    return 0


def command_of(argv: list[str]) -> str | None:
    """The command group ``argv`` names, when that is certain from the global options alone
    (``-w DIR``/``--workspace DIR`` or ``=DIR``, ``--events``); None otherwise (help, version,
    an unknown or misspelt command, an abbreviation argparse would have to resolve), and then
    the whole parser is built, so every message stays what it was."""
    words = iter(argv)
    for word in words:
        if word in ("-w", WORKSPACE_FLAG):
            next(words, None)
        elif word == EVENTS_FLAG or word.startswith((f"{WORKSPACE_FLAG}=", "-w")):
            continue
        elif word.startswith("-"):
            return None
        else:
            return word if any(word in commands for commands in GROUPS.values()) else None
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(command_of(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        if args.command is None and (code := _open_gui()) is not None:
            return code
        (parser if args.command is None else parser._subparsers._group_actions[0].choices[args.command]).print_help()  # type: ignore[union-attr, index]  # argparse keeps its subcommands private
        return 0 if args.command is None else 2
    if args.events:  # a job of the app: it may end this process together with its browser
        become_group_leader()
    reporter: Reporter = JsonLinesReporter() if args.events else TerminalReporter()
    reporter.install_signal_handlers()
    ctx = Context(args, reporter)
    try:
        return int(args.func(args, ctx) or 0)
    except Cancelled:
        reporter.log("cancelled; work finished so far is saved", "warning")
        return 130
    except KeyboardInterrupt:
        print("interrupted; work finished so far is saved", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stdout = open(os.devnull, "w")
        return 0
    except Exception as exc:  # one clear sentence, not a traceback, for known failures
        exc = _explained(exc, args)
        if not _is_user_error(exc) or os.environ.get("VSPECTRUM_DEBUG"):
            if args.events:  # the window's one sentence; the traceback follows on stderr
                reporter.emit("error", message=f"the job failed unexpectedly ({type(exc).__name__}: {exc})")
            raise
        if args.events:
            reporter.emit("error", message=str(exc))
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        ctx.close()


def _explained(exc: Exception, args: argparse.Namespace) -> Exception:
    """A damaged or read-only catalog, or a full disk, as one sentence (issue 14)."""
    import errno
    import sqlite3

    from vspectrum_app.core import db, diskspace

    def root() -> Path:
        from vspectrum_app.core.settings import default_workspace

        return Path(args.workspace).expanduser().resolve() if args.workspace else default_workspace()

    if isinstance(exc, sqlite3.DatabaseError):
        return UserError(db.explain(exc, root() / "catalog.sqlite"))
    if diskspace.is_disk_full(exc):  # the file that failed, else the workspace: never the current folder
        filename = getattr(exc, "filename", None)
        return UserError(diskspace.disk_full_message(Path(filename).parent if filename else root()))
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        return UserError(f"{exc.filename or 'the workspace'} is on a read-only disk: nothing can be changed there.")
    return exc


def _is_user_error(exc: Exception) -> bool:
    """Errors our own code raises with a user-facing message: by convention named *Error in our package."""
    return isinstance(exc, UserError) or (
        type(exc).__module__.startswith("vspectrum_app.") and type(exc).__name__.endswith(("Error", "Unavailable"))
    )


def _open_gui() -> int | None:
    """Run the app; None when Qt is not installed (then the CLI help is shown)."""
    if importlib.util.find_spec("PySide6") is None:
        return None
    return int(importlib.import_module("vspectrum_app.gui.app").main())
