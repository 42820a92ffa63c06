"""Convert the OPT-350M study's released generations and scores into tidy-table rows.

The study (arXiv 2509.09055) released ``N_RECIPE_KIND.json`` files, each a list of
``{"prompt", "response", "rating"}`` scored by OpenAssistant/reward-model-deberta-v3-large-v2.
Converting them lets every statistic here run on the published numbers, and the
test suite checks that the rates come back as the study reports them.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from harness.types import HarnessError

FILE_PATTERN = re.compile(r"^(?P<order>\d+)_(?P<recipe>[a-z0-9]+)_(?P<kind>harmful|helpful)\.json$")
PAPER_SOURCE = "opt350m-paper"
PAPER_FAMILY = "opt-350m"
PAPER_SCORER = "deberta-reward"


def prompt_id(text: str) -> str:
    """Stable id from the prompt text (the files list the same prompts in the same order)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_paper_responses(
    directory: str | Path,
    *,
    language: str = "en",
    tier: str | None = "high",
    scorer: str = PAPER_SCORER,
    model_prefix: str = "",
) -> list[dict[str, Any]]:
    """Tidy rows (one per response) from the study's ``responses/`` folder.

    ``model`` is ``model_prefix + recipe`` (base, sft, dpo, sftdpo) in the study's
    order; English is a high-resource language in every tier scheme, hence the default tier.
    """
    root = Path(directory)
    files = [(m, p) for p in sorted(root.glob("*.json")) if (m := FILE_PATTERN.match(p.name))] if root.is_dir() else []
    if not files:
        raise HarnessError(f"no study response files (N_recipe_kind.json) found in {root}")
    rows: list[dict[str, Any]] = []
    for match, path in sorted(files, key=lambda mp: (int(mp[0]["order"]), mp[0]["kind"])):
        recipe, kind = match["recipe"], match["kind"]
        for record in json.loads(path.read_text(encoding="utf-8")):
            rows.append(
                {
                    "model": model_prefix + recipe,
                    "source": PAPER_SOURCE,
                    "kind": kind,
                    "language": language,
                    "tier": tier,
                    "prompt_id": prompt_id(record["prompt"]),
                    "prompt": record["prompt"],
                    "response": record["response"],
                    "scorer": scorer,
                    "score": float(record["rating"]),
                    "family": PAPER_FAMILY,
                    "recipe": recipe,
                    "metric": "reward",
                    "translated": False,
                    "truncated": None,
                }
            )
    return rows


def main(argv: list[str] | None = None) -> None:
    """``python -m harness_stats.paper RESPONSES_DIR OUT.csv``: the study's scores as a tidy table,
    ready for ``harness stats OUT.csv --stats rates`` (which gives back the study's Table 1)."""
    import argparse

    from harness.table import write_table

    parser = argparse.ArgumentParser(prog="python -m harness_stats.paper", description=main.__doc__)
    parser.add_argument("responses_dir", help="the study's responses/ folder")
    parser.add_argument("output", help="tidy table to write (.csv, .jsonl or .parquet)")
    args = parser.parse_args(argv)
    try:
        path = write_table(load_paper_responses(args.responses_dir), args.output)
    except HarnessError as exc:
        parser.exit(2, f"error: {exc}\n")
    print(path)


if __name__ == "__main__":
    main()
