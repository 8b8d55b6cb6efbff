"""The package's layers import in one direction; only ui/ imports Qt."""

from __future__ import annotations

import subprocess
import sys


def test_non_ui_layers_never_import_qt():
    code = (
        "import sys\n"
        "import inpaint_gui.core.compose, inpaint_gui.core.metrics, inpaint_gui.core.region\n"
        "import inpaint_gui.models, inpaint_gui.engine, inpaint_gui.engine.pluralistic\n"
        "import inpaint_gui.training\n"
        "import pkgutil, importlib, inpaint_gui\n"
        "for m in pkgutil.walk_packages(inpaint_gui.__path__, 'inpaint_gui.'):\n"
        "    if not m.name.startswith(('inpaint_gui.ui', 'inpaint_gui.app', 'inpaint_gui.__main__')):\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('PySide6', 'shiboken6'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_engine_package_imports_no_torch():
    """The GUI lists engines before torch is loaded."""
    code = (
        "import sys, inpaint_gui.engine\n"
        "inpaint_gui.engine.describe_engines()\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
