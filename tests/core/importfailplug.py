"""A plugin module that fails to import (a missing dependency, as in a half-installed plugin)."""

import harness_no_such_dependency  # noqa: F401
