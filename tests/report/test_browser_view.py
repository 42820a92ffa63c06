"""The sample browser's multi-choice filters and its view in the address, in Chromium through Playwright:
two languages show exactly their rows, every change rewrites ``#samples?...`` without a history entry,
a link opens its view (filters, search, range, sort, page), and a malformed address is ignored."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import synthetic_report as synth
from sample_browser_ui import choose
from synthetic_report import write_synthetic_report
from test_sample_browser import PAGE_SIZE, _samples, _settle

pytestmark = pytest.mark.browser


def _indexes(rows, keep) -> list[int]:
    """Sample indexes (the browser's data-i) in table order, of the samples ``keep`` accepts."""
    return [i for i, s in enumerate(_samples(rows).values()) if keep(s)]


def _shown(p: Any) -> list[int]:
    return [int(i) for i in p.locator("#sb-rows tr.sb-row").evaluate_all("els => els.map(e => e.dataset.i)")]


def _all_pages(p: Any) -> list[int]:
    seen = _shown(p)
    while not p.is_disabled("#sb-next"):
        p.click("#sb-next")
        seen += _shown(p)
    return seen


def _hash(p: Any) -> str:
    """The address once the browser has written the view (it does so after the frame that shows it)."""
    p.wait_for_function("!document.getElementById('sb-count').dataset.hashPending")
    return p.evaluate("location.hash")


def test_two_languages_show_exactly_the_rows_of_those_languages(page, report_dir: Path, rows):
    p = page.open(report_dir / "report.html")
    want = _indexes(rows, lambda s: s["language"] in ("sw", "yo"))
    assert _settle(p, lambda: choose(p, "language", "sw", "yo")) == len(want) == 120
    assert p.inner_text("#sb-language summary") == "2 of 4"
    assert _all_pages(p) == want  # every page, each row once, nothing of another language
    # AND across filters, OR within one: two models of the two languages
    want = _indexes(rows, lambda s: s["language"] in ("sw", "yo") and s["model"] in ("base", "dpo"))
    assert _settle(p, lambda: choose(p, "model", "base", "dpo")) == len(want) == 80
    assert _all_pages(p) == want
    # the score range applies to any chosen scorer: fidelity has no score for yo, reward has one for all
    chosen = lambda s: s["language"] in ("sw", "yo") and s["model"] in ("base", "dpo")  # noqa: E731
    _settle(p, lambda: choose(p, "scorer", "fidelity"))
    n = _settle(p, lambda: p.fill("#sb-min", "0.5"))
    assert n == len(_indexes(rows, lambda s: chosen(s) and (s["scores"].get("fidelity") or 0) >= 0.5)) > 0
    n = _settle(p, lambda: choose(p, "scorer", "fidelity", "reward"))
    assert n == len(_indexes(rows, lambda s: chosen(s) and any((v or 0) >= 0.5 for v in s["scores"].values())))
    # "clear" empties one filter
    p.click("#sb-language summary")
    _settle(p, lambda: p.click("#sb-language .sb-clear"))
    assert p.inner_text("#sb-language summary") == "all"
    assert not p.locator("#sb-language input:checked").count()
    assert page.errors == []


def test_the_filters_work_from_the_keyboard(page, report_dir: Path, rows):
    p = page.open(report_dir / "report.html")
    p.focus("#sb-tier summary")
    p.keyboard.press("Enter")
    assert p.evaluate("document.getElementById('sb-tier').open")
    p.keyboard.press("Tab")
    assert p.evaluate("document.activeElement.dataset.value") == "high"
    p.keyboard.press("Tab")
    assert _settle(p, lambda: p.keyboard.press("Space")) == len(_indexes(rows, lambda s: s["tier"] == "low"))
    p.keyboard.press("Shift+Tab")
    assert p.evaluate("document.activeElement.dataset.value") == "high"
    p.keyboard.press("Shift+Tab")  # "clear", enabled now that a value is chosen
    assert p.evaluate("document.activeElement.className") == "sb-clear"
    p.keyboard.press("Escape")
    assert not p.evaluate("document.getElementById('sb-tier').open")
    assert p.evaluate("document.activeElement.parentElement.id") == "sb-tier"
    assert p.get_attribute("#sb-tier summary", "aria-label") == "tier: low"
    p.keyboard.press("Enter")
    for _ in range(4):  # clear, high, low, then out of the dropdown: it closes
        p.keyboard.press("Tab")
    assert p.evaluate("document.activeElement.parentElement.id") == "sb-kind"
    assert not p.evaluate("document.getElementById('sb-tier').open")
    assert page.errors == []


def test_every_change_writes_the_view_into_the_address(page, report_dir: Path):
    p = page.open(report_dir / "report.html")
    assert _hash(p) == ""  # opening the page does not touch the address
    length = p.evaluate("history.length")
    _settle(p, lambda: choose(p, "language", "sw", "yo"))
    assert _hash(p) == "#samples?language=sw,yo"
    _settle(p, lambda: p.fill("#sb-q", "answers & more, 100%"))
    _settle(p, lambda: p.fill("#sb-q", "answers"))
    _settle(p, lambda: p.fill("#sb-min", "-3"))
    _settle(p, lambda: p.select_option("#sb-sort", label="reward: highest first"))
    p.click("#sb-next")
    assert _hash(p) == "#samples?language=sw,yo&q=answers&min=-3&sort=desc:reward&page=2"
    assert p.evaluate("history.length") == length  # replaceState: no history entry per change
    _settle(p, lambda: p.fill("#sb-q", "answers & more, 100%"))
    assert _hash(p) == "#samples?language=sw,yo&q=answers%20%26%20more%2C%20100%25&min=-3&sort=desc:reward"
    _settle(p, lambda: p.click("#sb-reset"))
    assert _hash(p) == "#samples"
    assert page.errors == []


NO_CLIPBOARD = "Object.defineProperty(navigator, 'clipboard', {value: undefined});"
NO_EXEC_COMMAND = "document.execCommand = () => false;"


@pytest.mark.parametrize("broken", ["", NO_CLIPBOARD, NO_CLIPBOARD + NO_EXEC_COMMAND])
def test_copy_link_copies_the_address_of_the_view(page, report_dir: Path, broken):
    page.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    if broken:
        page.page.add_init_script(broken)
    p = page.open(report_dir / "report.html")
    _settle(p, lambda: choose(p, "kind", "harmful"))
    p.click("#sb-link")
    p.wait_for_function("document.getElementById('sb-linkmsg').dataset.copied !== undefined")
    url = (report_dir / "report.html").as_uri() + "#samples?kind=harmful"
    assert p.evaluate("location.href") == url
    if NO_EXEC_COMMAND in broken:  # no way to copy: the link is shown, selected, to copy by hand
        assert p.get_attribute("#sb-linkmsg", "data-copied") == "0"
        assert p.is_visible("#sb-linkurl") and p.input_value("#sb-linkurl") == url
        assert p.evaluate("document.activeElement.id") == "sb-linkurl"
    else:
        assert p.inner_text("#sb-linkmsg") == "link copied" and not p.is_visible("#sb-linkurl")
        if not broken:
            assert p.evaluate("navigator.clipboard.readText()") == url
    assert page.errors == []


def test_a_link_opens_its_view(page, report_dir: Path, rows):
    hash_ = "#samples?model=dpo,base&language=sw,yo&q=answers&min=-3&max=4&sort=desc:reward&page=2"
    p = page.open(report_dir / "report.html", hash_)
    keep = lambda s: (  # noqa: E731
        s["model"] in ("dpo", "base")
        and s["language"] in ("sw", "yo")
        and "answers" in s["response"]
        and any(v is not None and -3 <= v <= 4 for v in s["scores"].values())  # no scorer chosen: any score
    )
    samples = list(_samples(rows).values())
    order = sorted(_indexes(rows, keep), key=lambda i: (-samples[i]["scores"]["reward"], i))
    assert int(p.get_attribute("#sb-count", "data-matches")) == len(order) > PAGE_SIZE
    assert _shown(p) == order[PAGE_SIZE : 2 * PAGE_SIZE]  # the second page of the sorted rows
    assert p.inner_text("#sb-page").startswith("page 2 of")
    assert p.locator("#sb-model input:checked").evaluate_all("els => els.map(e => e.dataset.value)") == ["base", "dpo"]
    assert p.inner_text("#sb-language summary") == "2 of 4"
    assert (p.input_value("#sb-q"), p.input_value("#sb-min"), p.input_value("#sb-max")) == ("answers", "-3", "4")
    assert p.eval_on_selector("#sb-sort", "e => e.selectedOptions[0].label") == "reward: highest first"
    assert p.evaluate("document.getElementById('samples').getBoundingClientRect().top") < 50  # scrolled there
    # a link pasted into the open page changes the view too
    n = _settle(p, lambda: p.evaluate("location.hash = '#samples?tier=high&sort=asc:0'"))
    assert n == len(_indexes(rows, lambda s: s["tier"] == "high"))
    assert p.inner_text("#sb-page").startswith("page 1 of")
    assert p.eval_on_selector("#sb-sort", "e => e.value") == "asc:0"
    assert page.errors == []


def test_values_with_commas_and_symbols_travel_in_the_address(page, tmp_path: Path):
    odd = "sft, v2 & ü/100%"
    rows = synth.table(models=("base", odd), langs={"en": "high", "sw": "low"}, prompts=2)
    out = write_synthetic_report(tmp_path / "odd", rows)
    p = page.open(out / "report.html")
    n = _settle(p, lambda: choose(p, "model", odd))
    assert n == 16
    assert _hash(p) == "#samples?model=" + quote(odd, safe="")
    link = p.evaluate("location.href")
    fresh = page.page.context.new_page()
    fresh.goto(link)
    fresh.wait_for_selector("#sb-count[data-matches]", state="attached")
    assert int(fresh.get_attribute("#sb-count", "data-matches")) == 16
    assert fresh.inner_text("#sb-model summary") == odd
    assert page.errors == []


@pytest.mark.parametrize(
    "hash_",
    [
        "#samples?model=dpo,nope&language=%E0%A4%A&min=abc&max=1e999&sort=sideways:reward&page=-1&q=%",
        "#samples?model=dpo&page=x&page=999999999999&sort=desc:nope&__proto__=1&constructor=x&=&&",
        "#samples?model=dpo&sort=desc&sort=asc:99&tier=&kind=harmful%2Chelpful%00",
    ],
)
def test_a_malformed_address_is_ignored(page, report_dir: Path, rows, hash_):
    p = page.open(report_dir / "report.html", hash_)
    assert int(p.get_attribute("#sb-count", "data-matches")) == len(_indexes(rows, lambda s: s["model"] == "dpo"))
    assert (p.input_value("#sb-q"), p.input_value("#sb-min"), p.input_value("#sb-max")) == ("", "", "")
    assert p.eval_on_selector("#sb-sort", "e => e.value") == ""
    assert p.inner_text("#sb-page").startswith("page 1 of")
    assert page.errors == []


def test_other_anchors_are_left_alone(page, report_dir: Path):
    p = page.open(report_dir / "report.html", "#verdict")
    assert _hash(p) == "#verdict"
    assert int(p.get_attribute("#sb-count", "data-matches")) == 240
    p.click("header nav a[href='#results']")
    assert _hash(p) == "#results" and int(p.get_attribute("#sb-count", "data-matches")) == 240
    assert page.errors == []


def test_an_address_cannot_inject_markup(page, report_dir: Path):
    evil = quote('<img src=x onerror="window.__pwned = 7">', safe="")
    p = page.open(report_dir / "report.html", f"#samples?q={evil}&model={evil},dpo&sort=desc:{evil}")
    assert p.input_value("#sb-q") == '<img src=x onerror="window.__pwned = 7">'
    assert int(p.get_attribute("#sb-count", "data-matches")) == 0
    assert p.inner_text("#sb-model summary") == "dpo"
    p.wait_for_timeout(100)
    assert p.evaluate("window.__pwned") is None
    assert p.locator("#samples img").count() == 0
    assert page.errors == []


def test_the_browser_script_has_no_html_sink(repo_root: Path):
    """Data reaches the page through textContent / new Option() only: no HTML parser sink in the code."""
    code = (repo_root / "harness" / "templates" / "browser.js").read_text()
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", code, flags=re.S)
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in code, sink
