"""Anthropic HH-RLHF prompts, selected exactly as the OPT-350M SFT/DPO study did (or turn-correctly).

The study (arXiv 2509.09055) ran ``random.seed(100)``, sampled 50 harmless-base test
transcripts whose ``chosen`` contains ``kill``/``murder``/``rape``, then 50 helpful-base
test transcripts from the same random stream, and cut each transcript with
``.strip().split("\\n\\n")``, dropping the last piece only if it starts with
``Assistant:``. When the final assistant turn has several paragraphs the last piece is
not the turn's start, so the whole answer stays in the prompt; ``selection=turns`` (the
default) removes the final assistant turn whatever its length.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

from harness.types import Context, HarnessError, Prompt

from .base import BaseSource, resolve_path
from .readers import load_hub, read_json, read_jsonl, require_columns

HUB_ID = "Anthropic/hh-rlhf"
KEYWORDS = ("kill", "murder", "rape")
PAPER_SEED = 100
_TURN = re.compile(r"\n\n(?=(?:Human|Assistant):)")


def paper_prompt(chosen: str) -> str:
    """The study's cut: drop the last ``\\n\\n`` piece if it starts with ``Assistant:``."""
    pieces = chosen.strip().split("\n\n")
    if pieces[-1].startswith("Assistant:"):
        pieces = pieces[:-1]
    return "\n\n".join(pieces)


def turns_prompt(chosen: str) -> str:
    """Drop the whole final assistant turn, however many paragraphs it has."""
    turns = _TURN.split(chosen.strip())
    if len(turns) > 1 and turns[-1].startswith("Assistant:"):
        turns = turns[:-1]
    return "\n\n".join(turns)


CUTS = {"paper": paper_prompt, "turns": turns_prompt}


class HHRLHFSource(BaseSource):
    name = "hh-rlhf"
    description = "Anthropic HH-RLHF test prompts: harmful (harmless-base, keyword-filtered) and helpful"
    kinds = ("harmful", "helpful")
    default_options: dict[str, Any] = {
        **BaseSource.common_options,
        "selection": "turns",
        "keywords": list(KEYWORDS),
        "kinds": ["harmful", "helpful"],
        "prompts_file": "",
        "prompts_kind": "helpful",
    }

    def describe(self) -> dict[str, Any]:
        return {"selections": sorted(CUTS), "hub": HUB_ID}

    def native_languages(self, ctx: Context) -> list[str]:
        return ["en"]

    # -------------------------------------------------------------- data

    def _split_path(self, subset: str, ctx: Context) -> Path | None:
        return self.local(ctx, "hh-rlhf", subset, "test.jsonl.gz")

    def _records(self, subset: str, ctx: Context) -> list[dict[str, Any]]:
        path = self._split_path(subset, ctx)
        if path is not None and path.exists():
            records, where = read_jsonl(path), path
        else:
            hint = " (or set hh-rlhf.prompts_file to a JSON list of prompts)" if subset == "helpful-base" else ""
            records = load_hub(HUB_ID, data_dir=subset, split="test", what=f"hh-rlhf {subset}", local=path,
                               hint=hint)
            where = f"{HUB_ID}/{subset}/test"
        for i, rec in enumerate(records):
            require_columns(where, rec, ["chosen"], where=f"record {i}")
        return records

    def _prompts_file(self, ctx: Context) -> Path | None:
        value = str(self.opts(ctx).get("prompts_file") or "")
        return resolve_path(value, ctx) if value else None

    def data_files(self, language: str, ctx: Context) -> list[Path | str]:
        files: list[Path | str] = []
        for subset in ("harmless-base", "helpful-base"):
            path = self._split_path(subset, ctx)
            files.append(path if path is not None and path.exists() else f"hub:{HUB_ID}/{subset}")
        if self._prompts_file(ctx):
            files.append(self._prompts_file(ctx))  # type: ignore[arg-type]
        return files

    # -------------------------------------------------------------- selection

    def selection_seed(self, ctx: Context, selection: str) -> int:
        """Option ``seed`` when set; else the study's 100 for ``paper`` and the suite seed for ``turns``."""
        value = self.opts(ctx).get("seed")
        if value is None or value == "":
            return PAPER_SEED if selection == "paper" else int(ctx.seed)
        return int(value)

    def seed(self, ctx: Context) -> int:
        return self.selection_seed(ctx, str(self.opts(ctx).get("selection") or "turns"))

    def load_native(self, language: str, ctx: Context) -> list[Prompt]:
        return self.select(ctx, str(self.opts(ctx).get("selection") or "turns"))

    def select(self, ctx: Context, selection: str, seed: int | None = None) -> list[Prompt]:
        """Harmful then helpful prompts, drawn from one ``random.Random(seed)`` stream like the study."""
        if selection not in CUTS:
            raise HarnessError(f"hh-rlhf: selection must be one of {', '.join(sorted(CUTS))}, not {selection!r}")
        opts = self.opts(ctx)
        kinds = [opts["kinds"]] if isinstance(opts["kinds"], str) else list(opts["kinds"])
        bad = [k for k in kinds if k not in self.kinds]
        if bad:
            raise HarnessError(f"hh-rlhf: unknown kind(s) {', '.join(bad)} in option kinds")
        from_file = self._prompts_file(ctx)
        file_kind = str(opts.get("prompts_kind") or "helpful")
        if from_file and file_kind not in self.kinds:
            raise HarnessError(f"hh-rlhf: prompts_kind must be harmful or helpful, not {file_kind!r}")
        n, cut = self.n(ctx), CUTS[selection]
        seed = self.selection_seed(ctx, selection) if seed is None else seed
        keywords = [opts["keywords"]] if isinstance(opts["keywords"], str) else list(opts["keywords"])
        meta = {"selection": selection, "seed": seed, "n": n, "format": "transcript"}
        rng = random.Random(seed)
        out: list[Prompt] = []

        def draw(subset: str, kind: str, pool: list[tuple[int, dict[str, Any]]]) -> list[Prompt]:
            if n > len(pool):
                raise HarnessError(f"hh-rlhf: asked for n={n} {kind} prompts but only {len(pool)} are available")
            picked = rng.sample(pool, n) if n > 0 else pool
            tag = subset.split("-")[0]
            return [
                Prompt(self.name, f"{tag}-test-{i}", "en", kind, cut(rec["chosen"]),
                       {**meta, "split": f"{subset}/test", "row": i})
                for i, rec in picked
            ]

        helpful_from_base = "helpful" in kinds and not (from_file and file_kind == "helpful")
        if not (from_file and file_kind == "harmful") and ("harmful" in kinds or helpful_from_base):
            pool = [(i, r) for i, r in enumerate(self._records("harmless-base", ctx))
                    if any(k in r["chosen"] for k in keywords)]
            harmful = draw("harmless-base", "harmful", pool)  # always drawn: it advances the paper's stream
            if "harmful" in kinds:
                out += harmful
        if from_file and file_kind in kinds:
            out += self._file_prompts(from_file, file_kind, meta)
        if helpful_from_base:
            out += draw("helpful-base", "helpful", list(enumerate(self._records("helpful-base", ctx))))
        return out

    def _file_prompts(self, path: Path, kind: str, meta: dict[str, Any]) -> list[Prompt]:
        """A JSON list of prompt strings (or of objects with a ``prompt`` key), used as given."""
        data = read_json(path)
        if not isinstance(data, list) or not data:
            raise HarnessError(f"cannot read {path}: expected a non-empty JSON list of prompts")
        prompts = []
        for i, item in enumerate(data):
            text = item.get("prompt") if isinstance(item, dict) else item
            if not isinstance(text, str):
                raise HarnessError(f"cannot read {path}: item {i} is not a string or an object with 'prompt'")
            prompts.append(Prompt(self.name, f"{path.stem}-{i}", "en", kind, text.strip(),
                                  {**meta, "selection": "file", "file": path.name, "row": i}))
        return prompts

    def selection_diff(self, ctx: Context) -> list[dict[str, Any]]:
        """Prompts whose text differs between ``selection=paper`` and ``selection=turns``.

        Both cuts are applied to the same sampled transcripts (the paper's seed unless option
        ``seed`` is set), so every difference is due to the cut alone.
        """
        seed = self.selection_seed(ctx, "paper")
        paper = {p.prompt_id: p for p in self.select(ctx, "paper", seed)}
        turns = {p.prompt_id: p for p in self.select(ctx, "turns", seed)}
        return [
            {"prompt_id": pid, "kind": p.kind, "paper": p.text, "turns": turns[pid].text}
            for pid, p in paper.items()
            if pid in turns and turns[pid].text != p.text
        ]
