"""The language registry and tier schemes agree with the XTREME-R facts file and with the issue."""

from __future__ import annotations

import csv

import harness_sources.plugin as plugin
from harness_sources.languages import languages, tier_schemes

from harness.plugins import PluginHost


def test_fifty_languages_match_the_facts_file(sample_data):
    with open(sample_data / "xtreme-r" / "languages.tsv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    facts = {r["iso639_1"]: (r["name"], int(r["joshi_class"]), tuple(r["xtreme_r_tasks"].split(","))) for r in rows}
    ours = {lang.code: (lang.name, lang.joshi_class, lang.tasks) for lang in languages()}
    assert len(ours) == 50
    assert ours == facts
    mj = {r["iso639_1"]: r["multijail_tier"] for r in rows if r["multijail_tier"]}
    scheme = {s.name: s for s in tier_schemes()}["multijail"]
    assert dict(scheme.tiers) == mj


def test_joshi_tiers():
    joshi = {s.name: s for s in tier_schemes()}["joshi"]
    assert joshi.order == ("low", "mid", "high")
    assert joshi.tier_of("de") == "high" and joshi.tier_of("hi") == "high"  # classes 5 and 4
    assert joshi.tier_of("th") == "mid"  # class 3
    assert joshi.tier_of("sw") == "low" and joshi.tier_of("qu") == "low"  # classes 2 and 1
    assert {"sw", "ht", "mr", "yo", "qu", "jv"} <= set(joshi.languages_in("low"))
    assert len(joshi.tiers) == 50


def test_multijail_scheme():
    mj = {s.name: s for s in tier_schemes()}["multijail"]
    assert mj.order == ("low", "medium", "high")
    assert mj.languages_in("high") == ["it", "vi", "zh"]
    assert mj.languages_in("medium") == ["ar", "ko", "th"]
    assert mj.languages_in("low") == ["bn", "jv", "sw"]


def test_plugin_registers_everything_through_the_hooks():
    host = PluginHost(entry_points=False, plugins=[("sources", plugin)], strict=True)
    assert len(host.languages) == 50
    assert set(host.tier_schemes) == {"joshi", "multijail"}
    assert set(host.sources) == {"hh-rlhf", "multijail", "xquad", "xcopa", "mlqa", "tydiqa", "demo-prompts"}
    assert set(host.translators) == {"m2m100", "nllb", "madlad", "tiny-m2m100", "tiny-nllb", "tiny-madlad"}
    for source in host.sources.values():
        assert source.kinds and set(source.kinds) <= {"harmful", "helpful"}


def test_importing_the_plugin_is_cheap():
    import subprocess
    import sys

    heavy = "('torch', 'transformers', 'datasets', 'pandas', 'statsmodels')"
    code = f"import sys, harness_sources.plugin; print(','.join(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
