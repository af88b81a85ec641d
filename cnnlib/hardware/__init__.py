"""cnnlib.hardware: what it costs to run a CNN layer on an accelerator.

Modules, each with one job:

- ``energy``: energy per MAC and per memory access, as data with its source (Sze et al.'s
  normalized costs, Horowitz's 45 nm pJ).
- ``systolic``: a conv layer as a GEMM on a rows x cols systolic array (output, weight and
  input stationary, as in SCALE-Sim): cycles, utilization, mapping efficiency, SRAM traffic.

Import what you need from the module, e.g. ``from cnnlib.hardware.energy import horowitz_pj``.
"""
