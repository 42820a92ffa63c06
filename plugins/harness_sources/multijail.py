"""MultiJail (Deng et al., ICLR 2024): 315 harmful prompts, human-translated into 9 languages + English."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.types import Context

from .base import ItemSource
from .readers import load_hub, read_csv, require_columns

HUB_ID = "DAMO-NLP-SG/MultiJail"
LANGS = ("en", "zh", "it", "vi", "ar", "ko", "th", "bn", "sw", "jv")


class MultiJailSource(ItemSource):
    name = "multijail"
    description = "MultiJail harmful prompts, parallel in 10 languages (prompt_id = MultiJail id)"
    kinds = ("harmful",)
    kind = "harmful"

    def native_languages(self, ctx: Context) -> list[str]:
        return list(LANGS)

    def _path(self, ctx: Context) -> Path | None:
        return self.local(ctx, "multijail", "MultiJail.csv")

    def data_files(self, language: str, ctx: Context) -> list[Path | str]:
        path = self._path(ctx)
        return [path if path is not None and path.exists() else f"hub:{HUB_ID}"]

    def items(self, language: str, ctx: Context) -> list[tuple[str, str, dict[str, Any]]]:
        path = self._path(ctx)
        if path is not None and path.exists():
            header, rows = read_csv(path)
            where: Any = path
        else:
            rows = load_hub(HUB_ID, split="train", what="multijail", local=path)
            rows = [{str(k).lstrip("\ufeff").strip(): v for k, v in r.items()} for r in rows]
            header, where = list(rows[0]) if rows else [], HUB_ID
        require_columns(where, header, ["id", language])
        out = []
        for row in rows:
            text = (row.get(language) or "").strip()
            if text:
                meta = {"row_id": str(row["id"]), "origin": row.get("source", ""), "tags": row.get("tags", "")}
                out.append((str(row["id"]).strip(), text, meta))
        return out
