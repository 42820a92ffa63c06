"""Figures of the statistics (matplotlib, imported when drawing)."""
