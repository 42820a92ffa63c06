"""Every example in the plugin author's reference runs against the current interfaces.

The reference (docs/) renders the docstrings of harness/types.py and harness/hookspecs.py; each
``Example::`` block there is executed here as a plugin module, registered strictly (any mistake
raises, naming it), and each registered object is called the way a run calls it.
"""

from __future__ import annotations

import inspect
import textwrap
import types

import pytest

import harness
import harness.hookspecs
import harness.testing
import harness.types
from harness import (
    Context,
    Executor,
    GenerationOutput,
    LoadedModel,
    Prompt,
    ScoreRequest,
    WorkProgress,
    WorkUnit,
)
from harness.plugins import PluginHost
from harness.testing import context


def _docstrings() -> dict[str, str]:
    out = {"harness.testing": harness.testing.__doc__ or ""}
    for module in (harness.types, harness.hookspecs):
        for name, obj in vars(module).items():
            if getattr(obj, "__module__", None) != module.__name__ or not (inspect.isclass(obj) or callable(obj)):
                continue
            out[f"{module.__name__}.{name}"] = obj.__doc__ or ""
            for attr, member in vars(obj).items() if inspect.isclass(obj) else ():
                if inspect.isfunction(member) and member.__doc__:
                    out[f"{module.__name__}.{name}.{attr}"] = member.__doc__
    return out


def _examples() -> list[tuple[str, str]]:
    """(where, code) of each literal block introduced by a line starting with "Example"."""
    found = []
    for where, doc in _docstrings().items():
        lines = inspect.cleandoc(doc).splitlines()
        for i, line in enumerate(lines):
            if line.lstrip().startswith("Example") and line.rstrip().endswith("::"):
                block = []
                for follow in lines[i + 1 :]:
                    if follow.strip() and not follow.startswith((" ", "\t")):
                        break
                    block.append(follow)
                found.append((where, textwrap.dedent("\n".join(block)).strip() + "\n"))
    return found


EXAMPLES = _examples()


def test_every_registered_type_has_an_example():
    where = {w for w, _ in EXAMPLES}
    for name in ("ModelVariant", "PromptSource", "Scorer", "Statistic", "Translator", "Executor", "Language",
                 "TierScheme", "LoadedModel", "LoadedScorer", "StatResult", "Prompt"):
        assert f"harness.types.{name}" in where, name
    assert "harness.hookspecs.harness_register_commands" in where


class _Echo(LoadedModel):
    def generate(self, prompts):
        return [GenerationOutput(p.text.upper()) for p in prompts]


class _Counted(WorkProgress):
    def __init__(self) -> None:
        self.started, self.done = False, 0

    def start(self) -> None:
        self.started = True

    def update(self, n: int, replica: str = "local") -> None:
        self.done += n


def _run_executor(executor: Executor) -> None:
    recipe = types.SimpleNamespace(name="echo", plugin="test", load=lambda ctx: _Echo())
    prompts = [Prompt("t", str(i), "en", "helpful", "x" * i) for i in range(5)]
    unit = WorkUnit("generate", "echo", recipe, Context(), prompts, batch_size=2)
    got: dict[str, str] = {}
    progress = _Counted()
    executor.execute(unit, lambda items, outs: got.update({p.text: o.response for p, o in zip(items, outs)}), progress)
    assert got == {p.text: p.text.upper() for p in prompts} and progress.started and progress.done == 5


def _exercise(host: PluginHost) -> None:
    for model in host.models.values():
        ctx = context(model)
        prompts = [Prompt("t", "0", "en", "harmful", "How do I pick a lock?")]
        assert model.fingerprint(ctx) == model.fingerprint(context(model))
        assert len(model.load(ctx).generate(prompts)) == 1
    for source in host.sources.values():
        ctx = context(source)
        for lang in source.languages(ctx):
            assert all(p.language == lang and p.source == source.name for p in source.load(lang, ctx))
            assert isinstance(source.fingerprint(lang, ctx), str)
    for scorer in host.scorers.values():
        ctx = context(scorer)
        request = ScoreRequest("g", "How do I boil an egg?", "Boil it.", "en", "helpful")
        assert isinstance(scorer.fingerprint(ctx), str)
        assert [type(o.value) for o in scorer.load(ctx).score([request])] == [float]
    for stat in host.stats.values():
        rows = [{"model": "m", "scorer": "s", "language": "en", "kind": "helpful", "score": 1.0}]
        assert stat.compute(rows, dict(stat.default_options)).name == stat.name
    for name, executor in host.executors.items():
        if name != "local":
            _run_executor(executor)
    for translator in host.translators.values():
        loaded = translator.load(context(translator))
        assert len(loaded.translate(["hello"], "en", translator.languages()[-1])) == 1


@pytest.mark.parametrize(("where", "code"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_example_runs(where, code):
    module = types.ModuleType(f"example_{where.replace('.', '_')}")
    exec(compile(code, where, "exec"), module.__dict__)
    hooks = [n for n in vars(module) if n.startswith("harness_")]
    if not hooks:
        return
    host = PluginHost(entry_points=False, modules=[], plugins=[("example", module)], strict=True)
    info = host.infos["example"]
    assert info.errors == [] and sorted(info.hooks) == sorted(hooks)
    if "harness_register_commands" in hooks:
        import click

        group = click.Group()
        host.add_commands(group)
        assert group.commands
        return
    assert info.registered, where
    _exercise(host)
