from __future__ import annotations

import os

# Before anything imports Qt: tests never open real windows.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The perceptual metrics' weights live in the user's cache, but tests/ui/conftest.py points XDG_CACHE_HOME
# at a private folder when it is collected (before any test runs): remember the real folder first, for
# the tests marked uses_metric_weights (tests/training/conftest.py hides it from all others).
_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
os.environ.setdefault("INPAINT_METRIC_WEIGHTS", os.path.join(_cache, "inpaint-gui", "metrics"))
