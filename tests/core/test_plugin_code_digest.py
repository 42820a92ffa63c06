"""A plugin's code digest: what an edit to a plugin changes in the report key and the manifest."""

from __future__ import annotations

import importlib
import sys

from harness.plugins import code_digest


def _package(root, name: str, body: str) -> None:
    pkg = root / name
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "plugin.py").write_text(body)
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "helper.py").write_text("X = 1\n")


def test_the_digest_covers_every_file_of_the_plugins_package_and_only_it(tmp_path, monkeypatch):
    _package(tmp_path, "cd_pkg_a", "Y = 1\n")
    _package(tmp_path, "cd_pkg_b", "Y = 1\n")
    (tmp_path / "cd_pkg_b" / "sub" / "helper.py").write_text("X = 2\n")  # an edit deep inside the package
    (tmp_path / "cd_single.py").write_text("Z = 1\n")
    (tmp_path / "cd_other.py").write_text("W = 1\n")  # a neighbour module: not the single one's code
    monkeypatch.syspath_prepend(str(tmp_path))
    a = importlib.import_module("cd_pkg_a.plugin")
    b = importlib.import_module("cd_pkg_b.plugin")
    single = importlib.import_module("cd_single")
    try:
        assert code_digest(a) != code_digest(b)
        assert code_digest(a) == code_digest(a) and len(code_digest(a)) == 16
        before = code_digest(single)
        (tmp_path / "cd_other.py").write_text("W = 2\n")
        from harness import plugins

        plugins._CODE_DIGESTS.clear()
        assert code_digest(single) == before
        assert code_digest(object()) is None  # built-ins have no source file
    finally:
        for name in ("cd_pkg_a.plugin", "cd_pkg_a", "cd_pkg_b.plugin", "cd_pkg_b", "cd_single"):
            sys.modules.pop(name, None)


def test_installed_plugins_record_their_code_in_what_harness_plugins_shows():
    from harness.plugins import PluginHost

    infos = PluginHost().infos
    assert infos and all(i.as_dict()["code"] for i in infos.values() if not i.errors)
