"""cnnlib.hardware: what it costs to run a CNN layer on an accelerator.

Modules, each with one job:

- ``energy``: energy per MAC and per memory access, as data with its source (Sze et al.'s
  normalized costs, Horowitz's 45 nm pJ).

Import what you need from the module, e.g. ``from cnnlib.hardware.energy import horowitz_pj``.
"""
