"""Code the tests and the benchmarks share (data generators, simulation checks); never shipped in a plugin."""
