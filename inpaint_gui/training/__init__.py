"""Training, packing, exporting and evaluating models (`inpaint train/pack/export/eval`).

Importing this package imports nothing heavy; the modules import torch where they need it.
"""
