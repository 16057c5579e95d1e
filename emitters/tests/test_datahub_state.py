"""The DataHub emit state lives in the store: private like the rest of it, and read as untrusted input."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from flowscope_emitters.datahub_state import EmitState


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_state_folder_and_file_are_private(tmp_path: Path, loose_umask: None) -> None:
    state = EmitState(tmp_path, "http://gms:8080")
    item = ("tag", "urn:li:dataset:(urn:li:dataPlatform:hive,a.b,PROD)", "urn:li:tag:pii")
    state.save([item])
    assert stat.S_IMODE(state.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(state.path.stat().st_mode) == 0o600
    assert EmitState(tmp_path, "http://gms:8080").previous() == [item]
    assert [p.name for p in state.path.parent.iterdir()] == [state.path.name]  # no temporary file left


@pytest.mark.parametrize("text", ["[1, 2]", '"x"', "null", "{", '{"target": "http://gms:8080", "items": 3}'])
def test_a_state_file_of_any_shape_reads_as_none(tmp_path: Path, text: str) -> None:
    state = EmitState(tmp_path, "http://gms:8080")
    state.path.parent.mkdir(parents=True)
    state.path.write_text(text)
    assert state.previous() == []
    assert state.retractions([]) == []
