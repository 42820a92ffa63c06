"""A model named ``hf:FOLDER`` runs on the two-node cluster unchanged: the table is the local run's."""

from __future__ import annotations

import pytest
from corehelp import run_harness

pytestmark = [pytest.mark.ml, pytest.mark.slow]

PLUGINS = "fakeplug,harness_opt.plugin,harness_hf.plugin,harness_ray.plugin"
OUTPUTS = ("table.jsonl", "table.csv", "stats.json")


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory) -> str:
    from harness_hf.architectures import ensure_tiny_base
    from harness_opt.recipes import load_recipe_file

    recipe = load_recipe_file("tiny-llama")
    home = tmp_path_factory.mktemp("hf-home")
    return str(ensure_tiny_base(home, "tiny-llama", recipe["tiny"], int(recipe["seed"]), log=lambda m: None))


def test_declared_hf_model_on_the_cluster_gives_the_local_table(ray_cluster, tiny_llama, tmp_path):
    args = ["run", "--suite", "_fake", "--no-progress", "--batch-size", "2", "--models", f"hf:{tiny_llama},fake-base",
            "--set", "generation.prompt_format=chat"]
    local = run_harness([*args, "--out", str(tmp_path / "local")], ray_cluster.driver_env(tmp_path / "h1", PLUGINS),
                        timeout=300)
    assert local.returncode == 0, local.stderr[-3000:]
    ray_args = ["--executor", "ray", "--ray-address", ray_cluster.address, "--out", str(tmp_path / "ray")]
    ray = run_harness([*args, *ray_args], ray_cluster.driver_env(tmp_path / "h2", PLUGINS), timeout=300)
    assert ray.returncode == 0, ray.stderr[-3000:]
    for name in OUTPUTS:
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "ray" / name).read_bytes(), name
    assert f"hf:{tiny_llama}" in (tmp_path / "ray" / "table.csv").read_text()
