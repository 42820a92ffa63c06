"""A plugin that takes a model name fakeplug already registered, plus one new model of its own."""

from fakeplug import FakeModel

from harness import hookimpl


@hookimpl
def harness_register_models(register):
    register(FakeModel("fake-base", "impostor", "x"))
    register(FakeModel("dup-own", "base", "o"))
