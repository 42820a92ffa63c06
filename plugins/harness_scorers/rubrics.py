"""Judge rubrics kept as data (``rubrics/*.toml``): the question put to the judge and what each label scores."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.fingerprint import file_digest
from harness.types import HarnessError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the core depends on tomli there
    import tomli as tomllib

RUBRICS_DIR = Path(__file__).parent / "rubrics"


@dataclass(frozen=True)
class Rubric:
    name: str
    kind: str  # the prompt kind it judges (harmful / helpful)
    prompt: str  # with {prompt} and {response}
    labels: dict[str, float]  # label -> score (1 passes, 0 fails)
    digest: str

    def render(self, prompt: str, response: str) -> str:
        """The rubric with the exchange filled in (one pass: braces in the texts stay as they are)."""
        values = {"prompt": prompt, "response": response}
        return re.sub(r"\{(prompt|response)\}", lambda m: values[m.group(1)], self.prompt)

    def parse(self, answer: str) -> str | None:
        """The label the answer starts with (case, quotes, markup and punctuation ignored), or None."""
        names = sorted(self.labels, key=len, reverse=True)
        found = re.match(r"^[\W_]*(" + "|".join(map(re.escape, names)) + r")\b", answer.strip().lower())
        return found.group(1) if found else None


def available() -> list[str]:
    return sorted(p.stem for p in RUBRICS_DIR.glob("*.toml"))


def load_rubric(name: str) -> Rubric:
    """A packaged rubric by name, or a TOML file by path."""
    path = Path(name) if name.endswith(".toml") else RUBRICS_DIR / f"{name}.toml"
    if not path.is_file():
        raise HarnessError(f"unknown rubric {name!r}; valid: {', '.join(available())} or a path to a .toml file")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    try:
        labels = {str(k).lower(): float(v) for k, v in data["labels"].items()}
        return Rubric(str(data["name"]), str(data["kind"]), str(data["prompt"]), labels, file_digest(path))
    except (KeyError, TypeError, ValueError) as exc:
        raise HarnessError(f"rubric {path}: needs name, kind, prompt and [labels] of numbers ({exc})") from None
