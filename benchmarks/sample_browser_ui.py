"""Driving the sample browser as a user does, shared by the report tests, the browser benchmark and the
screenshot script: a multi-choice filter is a dropdown of checkboxes."""

from __future__ import annotations

from typing import Any


def choose(page: Any, facet: str, *values: str) -> None:
    """Choose exactly ``values`` in the filter ``facet`` (model, language, tier, kind, source, scorer):
    open its dropdown, tick and untick its checkboxes, close it. Every tick applies the filters."""
    box = page.locator(f"#sb-{facet}")
    if not box.evaluate("e => e.open"):
        box.locator("summary").click()
    boxes = box.locator("input[type=checkbox]")
    offered = boxes.evaluate_all("els => els.map(e => e.dataset.value)")
    unknown = set(values) - set(offered)
    assert not unknown, f"{facet} offers {offered}, not {sorted(unknown)}"
    for i, value in enumerate(offered):
        boxes.nth(i).set_checked(value in values)
    box.locator("summary").click()
