"""torch.nn modules only: no file I/O, no Qt."""

from inpaint_gui.models.config import PluralisticConfig
from inpaint_gui.models.layers import fold_spectral_norm
from inpaint_gui.models.pluralistic import Encoded, PluralisticGenerator

__all__ = ["Encoded", "PluralisticConfig", "PluralisticGenerator", "fold_spectral_norm"]
