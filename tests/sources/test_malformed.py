"""Broken data files give a one-line HarnessError naming the file, never a traceback."""

from __future__ import annotations

import gzip
import shutil

import pytest
from harness_sources.hh_rlhf import HHRLHFSource
from harness_sources.multijail import MultiJailSource
from harness_sources.qa import MLQASource, XQuADSource
from harness_sources.xcopa import XCOPASource

from harness.types import HarnessError


def _expect(load, path, what):
    with pytest.raises(HarnessError) as err:
        load()
    msg = str(err.value)
    assert str(path) in msg and what in msg and "\n" not in msg, msg


@pytest.fixture
def root(tmp_path):
    return tmp_path / "data"


def test_truncated_gzip(root, sample_data, make_ctx):
    path = root / "hh-rlhf/harmless-base/test.jsonl.gz"
    path.parent.mkdir(parents=True)
    data = (sample_data / "hh-rlhf/harmless-base/test.jsonl.gz").read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _expect(lambda: HHRLHFSource().load("en", make_ctx({"kinds": ["harmful"]}, data_dir=root)), path, "truncated")


def test_missing_column_in_jsonl_and_csv(root, sample_data, make_ctx):
    hh = root / "hh-rlhf/harmless-base/test.jsonl.gz"
    hh.parent.mkdir(parents=True)
    with gzip.open(hh, "wt", encoding="utf-8") as fh:
        fh.write('{"chosen": "\\n\\nHuman: kill time?", "rejected": "x"}\n{"rejected": "no chosen"}\n')
    _expect(lambda: HHRLHFSource().load("en", make_ctx({"kinds": ["harmful"]}, data_dir=root)), hh, "chosen")

    mj = root / "multijail/MultiJail.csv"
    mj.parent.mkdir(parents=True)
    text = (sample_data / "multijail/MultiJail.csv").read_text(encoding="utf-8-sig")
    lines = [",".join(line.split(",")[:-1]) if i == 0 else line for i, line in enumerate(text.splitlines())]
    mj.write_text("\n".join(lines) + "\n", encoding="utf-8")  # header lost its last column, jv
    _expect(lambda: MultiJailSource().load("jv", make_ctx(data_dir=root)), mj, "jv")

    xc = root / "xcopa/test.ht.jsonl"
    xc.parent.mkdir(parents=True)
    xc.write_text('{"premise": "a", "choice1": "b", "question": "cause", "idx": 0}\n', encoding="utf-8")
    _expect(lambda: XCOPASource().load("ht", make_ctx({"n": 0}, data_dir=root)), xc, "choice2")


def test_empty_files(root, make_ctx):
    for rel, load in [
        ("xquad/xquad.de.json", lambda: XQuADSource().load("de", make_ctx(data_dir=root))),
        ("multijail/MultiJail.csv", lambda: MultiJailSource().load("en", make_ctx(data_dir=root))),
        ("xcopa/test.sw.jsonl", lambda: XCOPASource().load("sw", make_ctx(data_dir=root))),
    ]:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
        _expect(load, path, "empty")


def test_wrong_encoding(root, sample_data, make_ctx):
    mj = root / "multijail/MultiJail.csv"
    mj.parent.mkdir(parents=True)
    mj.write_bytes((sample_data / "multijail/MultiJail.csv").read_text(encoding="utf-8-sig").encode("utf-16"))
    _expect(lambda: MultiJailSource().load("en", make_ctx(data_dir=root)), mj, "UTF-8")

    xc = root / "xcopa/test.ht.jsonl"  # Haitian Creole has ò and è: latin-1 bytes are not UTF-8
    xc.parent.mkdir(parents=True)
    xc.write_bytes((sample_data / "xcopa/test.ht.jsonl").read_text(encoding="utf-8").encode("latin-1"))
    _expect(lambda: XCOPASource().load("ht", make_ctx(data_dir=root)), xc, "UTF-8")


def test_not_json_and_not_squad(root, make_ctx):
    xq = root / "xquad/xquad.de.json"
    xq.parent.mkdir(parents=True)
    xq.write_text('{"data": [', encoding="utf-8")
    _expect(lambda: XQuADSource().load("de", make_ctx(data_dir=root)), xq, "JSON")
    xq.write_text('{"version": "1.1"}', encoding="utf-8")
    _expect(lambda: XQuADSource().load("de", make_ctx(data_dir=root)), xq, "SQuAD")


def test_no_local_file_and_offline_hub(root, make_ctx):
    root.mkdir()
    with pytest.raises(HarnessError) as err:
        MLQASource().load("de", make_ctx(data_dir=root))
    msg = str(err.value)
    assert "MLQA.de.de" in msg and "unreachable" in msg and "test-context-de-question-de.json" in msg
    shutil.rmtree(root)
    with pytest.raises(HarnessError, match="set HARNESS_DATA_DIR"):
        XCOPASource().load("ht", make_ctx(data_dir=None))
