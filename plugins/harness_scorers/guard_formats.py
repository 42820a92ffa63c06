"""The answer formats of generative guards: how a (prompt, response) becomes the guard's chat, which
text the guard writes before its label, the labels, and where the category is.

A guard's probability of "unsafe" is read from the logits of the label's first token, right after
the format's fixed answer prefix (``marker``): Llama Guard 3 writes ``\\n\\n`` then ``safe`` or
``unsafe``; Qwen3Guard-Gen writes ``Safety:`` then `` Safe``, `` Unsafe`` or `` Controversial``.
The prefix is the format, not the model's choice, so it is fed; the label is the model's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).parent / "guard_templates"

#: which side of the exchange a guard judges
SIDES = ("prompt+response", "response", "prompt")


@dataclass(frozen=True)
class GuardFormat:
    name: str
    marker: str  # the fixed text the guard writes before its label
    labels: dict[str, str]  # label text as written after the marker -> "safe" | "unsafe" | "controversial"
    category: str  # regex on the continuation after the label; group 1 is the category text
    template: str  # the guard's real chat template, for stand-ins (a real checkpoint brings its own)
    content_parts: bool = False  # turns as [{"type": "text", "text": ...}] (Llama Guard 3 1B's template)
    categories: dict[str, str] = field(default_factory=dict)  # code -> name, where the guard uses codes

    def template_text(self) -> str:
        return (TEMPLATES / self.template).read_text(encoding="utf-8")

    def messages(self, prompt: str, response: str, side: str) -> list[dict[str, Any]]:
        """The chat the guard reads: prompt moderation for side ``prompt``; response moderation otherwise
        (side ``response`` shows the guard an empty user turn: it judges the response alone)."""
        turns = (
            [("user", prompt)]
            if side == "prompt"
            else [("user", prompt if side != "response" else ""), ("assistant", response)]
        )
        if self.content_parts:
            return [{"role": r, "content": [{"type": "text", "text": t}]} for r, t in turns]
        return [{"role": r, "content": t} for r, t in turns]

    def parse_category(self, continuation: str) -> str | None:
        """The category the guard names after an unsafe label (codes mapped to names), or None."""
        found = re.search(self.category, continuation)
        if not found:
            return None
        text = found.group(1).strip()
        if not text or text.lower() == "none":
            return None
        parts = [p.strip().rstrip(".") for p in text.split(",") if p.strip()]
        return ", ".join(f"{p} {self.categories[p]}" if p in self.categories else p for p in parts) or None


LLAMA_GUARD_3_CATEGORIES = {
    "S1": "Violent Crimes",
    "S2": "Non-Violent Crimes",
    "S3": "Sex Crimes",
    "S4": "Child Exploitation",
    "S5": "Defamation",
    "S6": "Specialized Advice",
    "S7": "Privacy",
    "S8": "Intellectual Property",
    "S9": "Indiscriminate Weapons",
    "S10": "Hate",
    "S11": "Self-Harm",
    "S12": "Sexual Content",
    "S13": "Elections",
    "S14": "Code Interpreter Abuse",
}

_LLAMA_GUARD = dict(
    marker="\n\n",
    labels={"safe": "safe", "unsafe": "unsafe"},
    category=r"^\s*\n(S\d+(?:\s*,\s*S\d+)*)",
    template="llama-guard-3.jinja",
    categories=LLAMA_GUARD_3_CATEGORIES,
)

FORMATS: dict[str, GuardFormat] = {
    "llama-guard-3": GuardFormat(name="llama-guard-3", **_LLAMA_GUARD),
    "llama-guard-3-1b": GuardFormat(name="llama-guard-3-1b", content_parts=True, **_LLAMA_GUARD),
    "qwen3guard": GuardFormat(
        name="qwen3guard",
        marker="Safety:",
        labels={" Safe": "safe", " Unsafe": "unsafe", " Controversial": "controversial"},
        category=r"Categories:\s*([^\n]*)",
        template="qwen3guard.jinja",
    ),
}
