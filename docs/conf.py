"""Sphinx configuration of the plugin author's reference: generated from the docstrings of the code.

Built by `tox -e docs` (warnings are errors), which CI runs; HTML lands in docs/_build/html.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

project = "alignment-harness plugins"
author = "alignment-harness"
copyright = "the alignment-harness authors"
extensions = ["sphinx.ext.autodoc"]
exclude_patterns = ["_build", "*.png"]
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True}
autodoc_preserve_defaults = True
add_module_names = False
python_use_unqualified_type_names = True
html_show_sourcelink = False
html_theme = "alabaster"
html_theme_options = {"page_width": "1100px", "sidebar_width": "230px"}
html_static_path: list[str] = []
