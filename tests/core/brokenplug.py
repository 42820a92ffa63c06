"""A plugin that registers something malformed, a duplicate name, and one that raises."""

from harness import hookimpl


class NotAModel:
    name = "not-a-model"


@hookimpl
def harness_register_models(register):
    register(NotAModel())


@hookimpl
def harness_register_scorers(register):
    raise RuntimeError("scorer registry exploded")
