"""`harness fetch-data` through the real CLI, offline: a local copy laid out as HOST/PATH stands in for the hosts."""

from __future__ import annotations

import shutil
from pathlib import Path

import harness_sources.plugin as plugin
from click.testing import CliRunner
from harness_sources.fetch import FILES
from harness_sources.multijail import MultiJailSource
from harness_sources.xcopa import XCOPASource

from harness.cli import build_cli
from harness.plugins import PluginHost


def mirror_of(data: Path, root: Path) -> dict[str, bytes]:
    """Every upstream file at HOST/PATH under ``root``: the local copy's bytes, or made-up bytes where it has none."""
    expected = {}
    for files in FILES.values():
        for rel, url in files:
            body = (data / rel).read_bytes() if (data / rel).is_file() else f"stand-in for {url}\n".encode()
            target = root / url.split("://", 1)[1]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            expected[rel] = body
    return expected


def test_fetch_writes_the_layout_the_sources_read_and_resumes(sample_data, tmp_path, make_ctx):
    expected = mirror_of(sample_data, tmp_path / "mirror")
    cli = build_cli(PluginHost(entry_points=False, plugins=[("sources", plugin)], strict=True))
    dest = tmp_path / "data"
    res = CliRunner().invoke(cli, ["fetch-data", str(dest), "--mirror", (tmp_path / "mirror").as_uri()])
    assert res.exit_code == 0, res.output
    assert f"{len(expected)} file(s) fetched, 0 already present" in res.output
    assert {str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()} == set(expected)
    assert all((dest / rel).read_bytes() == body for rel, body in expected.items())
    # the sources read what it wrote
    assert len(MultiJailSource().load("sw", make_ctx({"n": 5}, data_dir=dest))) == 5
    assert len(XCOPASource().load("ht", make_ctx({"n": 5}, data_dir=dest))) == 5
    # a licence missing upstream warns; a lost data file is fetched again, the rest kept
    (tmp_path / "mirror" / FILES["xcopa"][-1][1].split("://", 1)[1]).unlink()
    (dest / "xcopa" / "LICENSE").unlink()
    (dest / "xcopa" / "test.ht.jsonl").unlink()
    res = CliRunner().invoke(cli, ["fetch-data", str(dest), "--mirror", (tmp_path / "mirror").as_uri(), "--only",
                                   "xcopa,xquad"])
    assert res.exit_code == 0 and "1 file(s) fetched" in res.output, res.output
    assert "warning: no licence file at" in res.output and not (dest / "xcopa" / "LICENSE").exists()


def test_unreachable_host_and_unknown_set_are_one_line_errors(tmp_path):
    cli = build_cli(PluginHost(entry_points=False, plugins=[("sources", plugin)], strict=True))
    res = CliRunner().invoke(cli, ["fetch-data", str(tmp_path / "d"), "--only", "xquad,nope"])
    assert res.exit_code == 2 and "unknown data set(s) nope" in res.output
    empty = tmp_path / "empty"
    empty.mkdir()
    res = CliRunner().invoke(cli, ["fetch-data", str(tmp_path / "d"), "--only", "xcopa", "--mirror", empty.as_uri()])
    assert res.exit_code == 2 and "could not download" in res.output and "run again to resume" in res.output
    assert not list((tmp_path / "d").rglob("*.part"))
    shutil.rmtree(tmp_path / "d", ignore_errors=True)
