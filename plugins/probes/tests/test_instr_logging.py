"""logging: records of enabled loggers become ``log://python/<logger>`` sinks with message and args."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from flowscope import naming
from flowscope_probes.context import CURRENT, FAULTS, Recorder
from flowscope_probes.instrumentations import logs
from flowscope_probes.instrumentations.logs import LoggingInstrumentation


@pytest.fixture
def inst() -> Iterator[LoggingInstrumentation]:
    i = LoggingInstrumentation()
    i.install()
    yield i
    i.uninstall()


def test_enabled_records_are_sinks_with_message_and_args(
    inst: LoggingInstrumentation, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("nearby_friends.metrics")
    with caplog.at_level(logging.INFO, logger="nearby_friends.metrics"):
        log.info("update %s at %s", "u-1234", "51.5,-0.12")
        log.debug("hidden %s", "never")  # below the level: not handled, not recorded
        log.warning("plain text")
    asset = naming.log("nearby_friends.metrics", system="python")
    assert rec.sinks == [
        (asset, {"message": "update u-1234 at 51.5,-0.12", "args": ["u-1234", "51.5,-0.12"]}),
        (asset, {"message": "plain text"}),
    ]
    assert [r.getMessage() for r in caplog.records] == ["update u-1234 at 51.5,-0.12", "plain text"]


def test_probes_own_loggers_are_skipped_and_nothing_without_recorder(
    inst: LoggingInstrumentation, caplog: pytest.LogCaptureFixture
) -> None:
    r = Recorder("job", "/r")
    with caplog.at_level(logging.INFO):
        logging.getLogger("app").info("no request %s", "x")
        token = CURRENT.set(r)
        try:
            logging.getLogger("flowscope_probes.worker").info("own %s", "y")
        finally:
            CURRENT.reset(token)
    assert r.sinks == []
    assert len(caplog.records) == 2


class Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_bad_format_is_a_counted_fault_and_logging_behaves_as_without(
    inst: LoggingInstrumentation, rec: Recorder
) -> None:
    log = logging.getLogger("app.bad")
    keep = Keep()
    log.addHandler(keep)
    log.setLevel(logging.INFO)
    log.propagate = False  # pytest's own capture handler re-raises formatting errors
    try:
        before = FAULTS.counts.get("logging", 0)
        log.info("%d items", "not a number")
    finally:
        log.removeHandler(keep)
    assert FAULTS.counts["logging"] == before + 1
    assert rec.sinks == []
    assert [r.msg for r in keep.records] == ["%d items"]  # the host's handler still got the record


def test_uninstall_restores_and_double_install_patches_once() -> None:
    original = logging.Logger.__dict__["handle"]
    a, b = LoggingInstrumentation(), LoggingInstrumentation()
    a.install()
    b.install()
    wrapped = logging.Logger.__dict__["handle"]
    assert wrapped is not original and wrapped.__wrapped__ is original
    assert b._patched == []
    a.uninstall()
    assert logging.Logger.__dict__["handle"] is original
    assert logs.LoggingInstrumentation().available()
