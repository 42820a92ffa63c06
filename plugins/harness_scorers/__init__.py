"""Scorers: reward models (direct and translate-test), language fidelity and an offline tiny reward model."""
