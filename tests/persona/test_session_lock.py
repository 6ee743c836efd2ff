"""Issue 14 item 2: a persona session another process is running is not run twice."""

from __future__ import annotations

import pytest

from tests.persona.test_runner import recorded, vlm  # noqa: F401 - fixtures
from vspectrum_app.core import locks
from vspectrum_app.persona.runner import SESSION_LOCK, execute, new_replay
from vspectrum_app.persona.store import SessionStore


def test_resume_of_a_held_session_is_refused_and_asks_nothing(workspace, recorded, vlm):  # noqa: F811
    replay = new_replay(workspace, recorded, provider="lab", model="m1")
    status = SessionStore(workspace).list()[-1]["status"]
    with locks.hold(workspace.root, SESSION_LOCK, replay):  # as the window's running job would
        assert locks.is_locked(workspace.root, SESSION_LOCK, replay)
        with pytest.raises(locks.RunLockedError, match=f"persona session {replay} is being run by process"):
            execute(workspace, replay)
    assert vlm.log == []
    assert SessionStore(workspace).list()[-1]["status"] == status  # the owner's status is left alone
    assert execute(workspace, replay) == "done"
