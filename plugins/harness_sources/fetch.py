"""`harness fetch-data DIR`: download the upstream data files into the layout the sources read.

The sources read a local data directory (``HARNESS_DATA_DIR`` or a suite's ``data_dir``) in each
data set's own file layout; this writes that layout from the upstream hosts, with each data set's
licence beside it. ``--mirror`` reads the same paths under another base (``file:///...`` for a
local copy laid out as ``HOST/PATH``), which is how the command is tested offline. Files already
present are kept, so an interrupted download resumes; each file is written whole or not at all.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable
from pathlib import Path

import click

from harness.types import HarnessError

GITHUB = "https://raw.githubusercontent.com"
HUB = "https://huggingface.co/datasets"
XQUAD_LANGS = ("ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh")
XCOPA_LANGS = ("et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh")
PAPER = f"{GITHUB}/PiyushWithPant/Improving-LLM-Safety-and-Helpfulness-using-SFT-and-DPO/main"
PAPER_RESPONSES = [f"{i}_{v}_{k}.json" for i, v in enumerate(("base", "sft", "dpo", "sftdpo"), 1)
                   for k in ("harmful", "helpful")]

#: data set -> [(path under the data directory, upstream URL)]
FILES: dict[str, list[tuple[str, str]]] = {
    "hh-rlhf": [
        ("hh-rlhf/harmless-base/test.jsonl.gz", f"{HUB}/Anthropic/hh-rlhf/resolve/main/harmless-base/test.jsonl.gz"),
        ("hh-rlhf/helpful-base/test.jsonl.gz", f"{HUB}/Anthropic/hh-rlhf/resolve/main/helpful-base/test.jsonl.gz"),
        ("hh-rlhf/LICENSE", f"{GITHUB}/anthropics/hh-rlhf/master/LICENSE"),
    ],
    "multijail": [
        ("multijail/MultiJail.csv", f"{HUB}/DAMO-NLP-SG/MultiJail/resolve/main/MultiJail.csv"),
        ("multijail/LICENSE", f"{GITHUB}/DAMO-NLP-SG/multilingual-safety-for-LLMs/main/LICENSE"),
    ],
    "opt350m-paper": [
        ("opt350m-paper/prompts/helpful_prompts.json", f"{PAPER}/data/prompts/helpful_prompts.json"),
        *[(f"opt350m-paper/responses/{name}", f"{PAPER}/data/responses/{name}") for name in PAPER_RESPONSES],
        ("opt350m-paper/LICENSE", f"{PAPER}/LICENSE"),
    ],
    "xquad": [
        *[(f"xquad/xquad.{lang}.json", f"{GITHUB}/google-deepmind/xquad/master/xquad.{lang}.json")
          for lang in XQUAD_LANGS],
        ("xquad/LICENSE", f"{GITHUB}/google-deepmind/xquad/master/LICENSE"),
    ],
    "xcopa": [
        *[(f"xcopa/test.{lang}.jsonl", f"{GITHUB}/cambridgeltl/xcopa/master/data/{lang}/test.{lang}.jsonl")
          for lang in XCOPA_LANGS],
        ("xcopa/LICENSE", f"{GITHUB}/cambridgeltl/xcopa/master/LICENSE"),
    ],
}


def mirrored(url: str, mirror: str | None) -> str:
    """``url`` under ``mirror``: https://HOST/PATH -> MIRROR/HOST/PATH."""
    return f"{mirror.rstrip('/')}/{url.split('://', 1)[1]}" if mirror else url


def fetch(dest: Path, sets: list[str], mirror: str | None, echo: Callable[[str], None] = click.echo) -> dict[str, int]:
    """Download every file of ``sets`` into ``dest``; returns counts of fetched, kept and missing-licence
    files. A data file that cannot be downloaded stops the command; a licence file only warns (upstream
    repositories move them), since the data sets' licences are also listed in the README."""
    counts = {"fetched": 0, "kept": 0, "no licence": 0}
    for name in sets:
        for rel, url in FILES[name]:
            target = dest / rel
            if target.is_file():
                counts["kept"] += 1
                continue
            source = mirrored(url, mirror)
            target.parent.mkdir(parents=True, exist_ok=True)
            part = target.with_name(target.name + ".part")
            try:
                with urllib.request.urlopen(source, timeout=60) as resp, open(part, "wb") as fh:
                    while chunk := resp.read(1 << 20):
                        fh.write(chunk)
            except OSError as exc:
                part.unlink(missing_ok=True)
                if target.name == "LICENSE":
                    counts["no licence"] += 1
                    click.echo(f"warning: no licence file at {source} ({exc}); see the data set's repository", err=True)
                    continue
                kept = f"{counts['fetched']} file(s) written so far are kept, run again to resume"
                raise HarnessError(f"fetch-data: could not download {source} ({exc}); {kept}") from None
            os.replace(part, target)
            counts["fetched"] += 1
            echo(f"{rel}  {target.stat().st_size:,} bytes")
    return counts


@click.command("fetch-data")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--only", default="", help=f"Comma-separated data sets (default all: {', '.join(FILES)}).")
@click.option("--mirror", default=None, help="Read HOST/PATH under this base URL instead (file:///... offline).")
def fetch_data_command(dest: Path, only: str, mirror: str | None) -> None:
    """Download the upstream data sets into DEST in the layout the sources read (then HARNESS_DATA_DIR=DEST)."""
    sets = [s.strip() for s in only.split(",") if s.strip()] or list(FILES)
    bad = [s for s in sets if s not in FILES]
    if bad:
        raise HarnessError(f"--only: unknown data set(s) {', '.join(bad)}; choose from {', '.join(FILES)}")
    counts = fetch(dest, sets, mirror)
    click.echo(f"{counts['fetched']} file(s) fetched, {counts['kept']} already present, in {dest} "
               f"(export HARNESS_DATA_DIR={dest})")
