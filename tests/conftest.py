from __future__ import annotations

import os

# Before anything imports Qt: tests never open real windows.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The LPIPS / EfficientNet weights `inpaint metric-weights` caches live in the user's cache folder
# (inpaint_gui.training.perceptual.weights_dir); tests/ui/conftest.py points XDG_CACHE_HOME at a
# private folder for the whole run, so pin the real location before it does.
if not os.environ.get("INPAINT_METRIC_WEIGHTS"):
    _cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    os.environ["INPAINT_METRIC_WEIGHTS"] = os.path.join(_cache, "inpaint-gui", "metrics")
