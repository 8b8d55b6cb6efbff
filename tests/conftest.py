from __future__ import annotations

import os

# Before anything imports Qt: tests never open real windows.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
