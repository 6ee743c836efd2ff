"""One progress bar and one log for every job (gui/job_log.py): what the crawl, persona,
library and benchmark panes each used to handle with their own copy."""

from __future__ import annotations

import pytest

from tests.gui.fakes import FakeJob
from vspectrum_app.gui.job_log import MAX_LOG_LINES, JobLog, JobProgress

pytestmark = pytest.mark.gui


def test_progress_shows_done_of_total_and_is_busy_while_the_total_is_unknown(qtbot):
    bar, said = JobProgress(), []
    qtbot.addWidget(bar)
    bar.message.connect(said.append)
    bar.start()
    assert (bar.minimum(), bar.maximum()) == (0, 0)  # busy: nothing known yet
    bar.on_progress(3, 8, "video 3")
    assert (bar.value(), bar.maximum(), bar.format()) == (3, 8, "%v/%m  video 3")
    bar.on_progress(4, 0, "")  # total unknown again: busy, the last message kept
    assert (bar.maximum(), bar.format()) == (0, "%v/%m  video 3")
    assert said == ["video 3"]
    bar.start(5)
    assert (bar.value(), bar.maximum(), bar.format()) == (0, 5, "%p%")  # a new job forgets the old message


def test_progress_without_message_leaves_the_bar_plain(qtbot):
    bar, said = JobProgress(with_message=False), []
    qtbot.addWidget(bar)
    bar.message.connect(said.append)
    bar.on_progress(1, 2, "importing a.jpg")
    assert bar.format() == "%p%" and said == ["importing a.jpg"]  # the pane shows it in its status line


def test_log_follows_a_job_and_stays_bounded(qtbot):
    log, bar, job = JobLog(), JobProgress(), FakeJob()
    qtbot.addWidget(log)
    qtbot.addWidget(bar)
    log.follow(job, bar)
    job.send({"type": "log", "message": "started"})
    job.send({"type": "log", "level": "warning", "message": "login wall"})
    job.send({"type": "progress", "done": 2, "total": 4, "message": "two"})
    assert log.toPlainText().splitlines() == ["started", "warning: login wall"]
    assert log.isReadOnly() and (bar.value(), bar.maximum()) == (2, 4)
    for n in range(MAX_LOG_LINES + 10):
        log.on_log("info", f"line {n}")
    assert log.blockCount() == MAX_LOG_LINES
