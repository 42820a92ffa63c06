"""A plugin needing an extra that is not installed is listed as such, silently; a broken one is still warned about."""

from __future__ import annotations

from importlib import metadata
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

import harness.plugins as plugins_mod
from harness.cli import build_cli
from harness.extras import extra_providing
from harness.plugins import PluginHost

CORE = "alignment-harness"


def test_the_extra_that_provides_a_missing_module():
    assert extra_providing(CORE, ModuleNotFoundError("no numpy", name="numpy")) == "stats"
    assert extra_providing(CORE, ModuleNotFoundError("no ray", name="ray._private")) == "distributed"
    assert extra_providing(CORE, ModuleNotFoundError("no torch", name="torch")) == "ml"
    assert extra_providing(CORE, ModuleNotFoundError("no click", name="click")) is None  # a core dependency
    assert extra_providing(CORE, ImportError("broken", name="numpy")) is None  # present but failing: a real error
    assert extra_providing(None, ModuleNotFoundError("x", name="numpy")) is None
    assert extra_providing("no-such-distribution", ModuleNotFoundError("x", name="numpy")) is None


def fake_entry_point(name: str, exc: Exception):
    def load():
        raise exc

    return SimpleNamespace(name=name, value=f"{name}_mod.plugin", dist=metadata.distribution(CORE), load=load)


@pytest.fixture
def host_with(monkeypatch):
    def make(*eps, strict=False):
        monkeypatch.setattr(plugins_mod.metadata, "entry_points", lambda group: list(eps))
        monkeypatch.delenv("HARNESS_NO_ENTRYPOINTS", raising=False)
        return PluginHost(strict=strict)

    return make


def test_missing_extra_is_listed_not_warned(host_with):
    host = host_with(fake_entry_point("stats-like", ModuleNotFoundError("No module named 'numpy'", name="numpy")),
                     strict=True)  # strict mode too: not a broken plugin
    assert host.failures() == []
    assert host.infos["stats-like"].needs_extra == "stats"
    result = CliRunner().invoke(build_cli(host), ["plugins"])
    assert result.exit_code == 0 and "warning" not in result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("stats-like"))
    assert "not loaded: needs the `stats` extra (pip install 'alignment-harness[stats]')" in line
    listed = CliRunner().invoke(build_cli(host), ["plugins", "--json"])
    assert '"needs_extra": "stats"' in listed.stdout


def test_a_module_no_extra_provides_is_still_a_failure(host_with):
    host = host_with(fake_entry_point("broken", ModuleNotFoundError("No module named 'nothere'", name="nothere")))
    assert [i.name for i in host.failures()] == ["broken"] and host.infos["broken"].needs_extra is None


def test_a_statistic_whose_extra_is_missing_says_which():
    from harness.plugins import PluginInfo
    from harness.report import run_stats
    from harness.types import Statistic

    class NeedsNumpy(Statistic):
        name, plugin = "needs-numpy", "stats-like"

        def compute(self, rows, options):
            raise ModuleNotFoundError("No module named 'numpy'", name="numpy")

    host = SimpleNamespace(stats={"needs-numpy": NeedsNumpy()}, infos={"stats-like": PluginInfo("stats-like", CORE)})
    [result] = run_stats(host, ["needs-numpy"], [], {})
    assert result.warnings == ["failed: needs the `stats` extra (no module 'numpy')"]
    assert result.error == "needs the `stats` extra (no module 'numpy')"
