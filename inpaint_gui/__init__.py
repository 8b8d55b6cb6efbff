"""Pluralistic image inpainting: a desktop app, a CLI and a trainer."""

__version__ = "0.1.0"
