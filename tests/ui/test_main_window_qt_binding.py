"""The Qt binding itself must be sound enough to run the window for hours."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QObject


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_void_calls_do_not_drop_references_to_none():
    # PySide6-Essentials 6.12.0 on Python 3.11 returns None from every void method without a
    # new reference: a few thousand calls (one paint event makes dozens) and the process aborts
    # with "none_dealloc". pyproject excludes that release; this catches a broken install.
    obj = QObject()
    before = sys.getrefcount(None)
    for _ in range(1000):
        obj.setObjectName("probe")
    assert sys.getrefcount(None) >= before - 10
