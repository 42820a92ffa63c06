"""GlotLID (a fastText language identifier over ~2,100 labels) for ``lang-fidelity``, and its offline stand-in.

GlotLID v3 (Kargaran et al. 2023, ``cis-lmu/glotlid`` on the hub) labels text ``__label__wol_Latn``:
ISO 639-3 plus script. ``LANGUAGE_LABELS`` maps each XTREME-R code to the ISO 639-3 codes counted
as that language (any script; individual languages of a macrolanguage, e.g. the Quechuan
languages for ``qu``, Mandarin/Cantonese/Wu for ``zh`` as py3langid's varieties do). Which of
them a model actually knows is read from the model's own labels, so a language it lacks is named,
never guessed. The file comes from ``model_file`` (a local path) or the hub cache; an explicit
``backend = "glotlid"`` also downloads it.

``tiny-glotlid`` is a fastText model trained here, at first use, on the project's demo prompts
(7 languages, GlotLID's label format): the rehearsal and the tests run this path offline.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.fingerprint import digest, file_digest
from harness.types import HarnessError

_QUECHUAN = ("que qub qud quf qug quh quk qul qup qur qus quw qux quy quz qva qvc qve qvh qvi qvj qvl qvm qvn "
             "qvo qvp qvs qvw qvz qwa qwc qwh qws qxa qxc qxh qxl qxn qxo qxp qxr qxt qxu qxw")

#: XTREME-R code -> the ISO 639-3 codes whose labels count as that language.
LANGUAGE_LABELS: dict[str, tuple[str, ...]] = {
    code: tuple(iso3.split()) for code, iso3 in {
        "af": "afr", "ar": "ara arb ary arz acm acq aeb ajp apc ars", "az": "aze azj", "bg": "bul",
        "bn": "ben", "de": "deu", "el": "ell", "en": "eng", "es": "spa", "et": "est ekk", "eu": "eus",
        "fa": "fas pes prs", "fi": "fin", "fr": "fra", "gu": "guj", "he": "heb", "hi": "hin", "ht": "hat",
        "hu": "hun", "id": "ind", "it": "ita", "ja": "jpn", "jv": "jav", "ka": "kat", "kk": "kaz",
        "ko": "kor", "lt": "lit", "ml": "mal", "mr": "mar", "ms": "msa zsm", "my": "mya", "nl": "nld",
        "pa": "pan", "pl": "pol", "pt": "por", "qu": _QUECHUAN, "ro": "ron", "ru": "rus", "sw": "swa swh",
        "ta": "tam", "te": "tel", "th": "tha", "tl": "tgl fil", "tr": "tur", "uk": "ukr", "ur": "urd",
        "vi": "vie", "wo": "wol", "yo": "yor", "zh": "zho cmn yue wuu",
    }.items()
}

HUB_REPO, HUB_FILE = "cis-lmu/glotlid", "model.bin"


def fasttext_installed() -> bool:
    try:
        metadata.version("fasttext")
    except metadata.PackageNotFoundError:
        return False
    return True


def iso3(label: str) -> str:
    """``__label__wol_Latn`` -> ``wol``."""
    return label.removeprefix("__label__").split("_")[0]


def covered(labels: Sequence[str]) -> dict[str, list[str]]:
    """Our code -> the model's labels counted as it, for every language the model knows."""
    out: dict[str, list[str]] = {}
    for code, codes in LANGUAGE_LABELS.items():
        mine = sorted(label for label in labels if iso3(label) in codes)
        if mine:
            out[code] = mine
    return out


def cached_model_file(repo: str, filename: str, revision: str) -> Path | None:
    """The hub file if it is already in the local hub cache (no network), else None."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    found = try_to_load_from_cache(repo, filename, revision=revision)
    return Path(found) if isinstance(found, str) and os.path.exists(found) else None


def local_model_file(options: dict[str, Any]) -> Path | None:
    """``model_file`` when set (it must exist), else the hub cache's copy, else None."""
    if options.get("model_file"):
        path = Path(str(options["model_file"])).expanduser()
        if not path.is_file():
            raise HarnessError(f"lang-fidelity: model_file {str(path)!r} does not exist (a GlotLID fastText .bin)")
        return path
    return cached_model_file(str(options["repo"]), str(options["filename"]), str(options["revision"]))


def fetch_model_file(options: dict[str, Any]) -> Path:
    """The GlotLID file, downloaded when it is not local; one line when that fails."""
    path = local_model_file(options)
    if path is not None:
        return path
    repo, filename = str(options["repo"]), str(options["filename"])
    try:
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(repo, filename, revision=str(options["revision"])))
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise HarnessError(
            f"lang-fidelity: cannot get GlotLID {repo}/{filename} (offline?): {first[:120]}; set "
            "lang-fidelity.model_file=PATH to a downloaded copy, or lang-fidelity.backend=py3langid"
        ) from exc


@functools.lru_cache(maxsize=8)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    return file_digest(path)


def model_digest(path: Path) -> str:
    """A hub cache blob is named by its sha256 already; another file is hashed once per process."""
    real = Path(os.path.realpath(path))
    if real.parent.name == "blobs" and len(real.name) == 64:
        return real.name
    st = real.stat()
    return _digest(str(real), st.st_size, st.st_mtime_ns)


class FastTextIdentifier:
    """A loaded fastText identifier: probabilities of every label, summed per language of ours."""

    def __init__(self, path: Path, name: str) -> None:
        try:
            import fasttext
        except ImportError as exc:
            raise HarnessError("lang-fidelity with GlotLID needs fasttext (pip install -e '.[langid]')") from exc
        self.name = name
        self.model = fasttext.load_model(str(path))
        self.labels = list(self.model.get_labels())
        self.known = covered(self.labels)

    def probabilities(self, text: str) -> list[tuple[str, float]]:
        """(label, probability) of every label, best first. fastText reads one line: newlines become spaces.

        Calls the binding's ``predict`` directly: the Python wrapper's breaks under numpy 2."""
        line = " ".join(text.split())
        pairs = self.model.f.predict(line, -1, 0.0, "replace")
        return [(label, float(p)) for p, label in pairs]


# ----------------------------------------------------------------------------- the offline stand-in

#: The demo prompts' languages as GlotLID labels.
DEMO_LABELS = {"en": "eng_Latn", "de": "deu_Latn", "es": "spa_Latn", "zh": "cmn_Hani", "sw": "swh_Latn",
               "ht": "hat_Latn", "mr": "mar_Deva"}
TINY_PARAMS: dict[str, Any] = {"epoch": 30, "lr": 0.5, "dim": 16, "minn": 1, "maxn": 3, "wordNgrams": 1,
                               "bucket": 20000, "thread": 1, "seed": 0, "verbose": 0, "minCount": 1}


def tiny_recipe() -> dict[str, Any]:
    from harness_sources.demo import demo_path  # the project's own text, shipped with the sources plugin

    return {"version": 1, "params": TINY_PARAMS, "labels": DEMO_LABELS, "corpus": file_digest(demo_path())}


_TRAIN = (
    "import json, sys, fasttext\n"
    "folder, params = sys.argv[1], json.loads(sys.argv[2])\n"
    "fasttext.train_supervised(folder + '/train.txt', **params).save_model(folder + '/model.bin')\n"
)


def build_tiny_glotlid(home: Path) -> Path:
    """Train (once) the tiny fastText identifier under ``home``; return the model file."""
    recipe = tiny_recipe()
    dest = Path(home) / "models" / "tiny-glotlid" / digest(recipe)[:16]
    if (dest / "model.bin").exists():
        return dest / "model.bin"
    if not fasttext_installed():
        raise HarnessError("tiny-glotlid needs fasttext (pip install -e '.[langid]')")
    from harness_sources.demo import demo_document

    lines = [f"__label__{DEMO_LABELS[lang]} {' '.join(text.split())}"
             for p in demo_document()["prompts"] for lang, text in sorted(p["text"].items()) if lang in DEMO_LABELS]
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=dest.parent))
    try:
        (tmp / "train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        # fastText carries state from one training to the next in a process (a second training gives other
        # bytes, or NaN): a fresh interpreter trains it, so every build gives the same bytes
        done = subprocess.run([sys.executable, "-c", _TRAIN, str(tmp), json.dumps(TINY_PARAMS)],
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise HarnessError(f"tiny-glotlid: training the fastText stand-in failed: {last[:200]}")
        (tmp / "train.txt").unlink()
        try:
            os.replace(tmp, dest)
        except OSError:  # another process finished first: keep theirs
            if not (dest / "model.bin").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest / "model.bin"
