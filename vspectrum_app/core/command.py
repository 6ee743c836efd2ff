"""What a command handler of the ``vspectrum`` CLI gets: the ``CommandContext`` protocol.

``vspectrum_app.cli.Context`` implements it; each part's ``cli`` module types its handlers with
this protocol, since importing the CLI's own module from a part would be the cli <-> parts cycle
that the import contracts forbid."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from vspectrum_app.core.jobs import Reporter
    from vspectrum_app.core.operations import Operation, Options
    from vspectrum_app.core.workspace import Workspace

OptionsT = TypeVar("OptionsT", bound="Options")


class CommandContext(Protocol):
    args: argparse.Namespace
    reporter: Reporter

    @property
    def settings(self) -> dict[str, Any]:
        """The user's settings (``Settings.as_dict()``), read once by the entry point."""
        ...

    @property
    def json(self) -> bool: ...

    def workspace(self, create: bool = True) -> Workspace: ...

    def params(self, cls: type[OptionsT], args: argparse.Namespace) -> OptionsT:
        """The command's options as ``cls``, what they leave unset taken from the settings."""
        ...

    def print_json(self, obj: Any) -> None: ...

    def result(self, params: Operation, value: Any) -> bool:
        """With ``--events``, ``value`` as the job's typed ``result`` event (True); else False."""
        ...

    def show(self, params: Operation, value: Any, text: Callable[[], str]) -> None:
        """An operation's result: the ``result`` event (``--events``), JSON (``--json``) or ``text()``."""
        ...
