"""cnnlib.hardware: what it costs to run a CNN layer on an accelerator.

Modules, each with one job:

- ``energy``: energy per MAC and per memory access, as data with its source (Sze et al.'s
  normalized costs, Horowitz's 45 nm pJ).
- ``arch``: an accelerator as data (storage levels, PE array, energies), Eyeriss-like and simple.
- ``mapping``: a layer's seven loops tiled over the levels and the array; printed as a loop nest.
- ``analytical``: the accesses per level and operand of a mapping, counted without running it.
- ``simulator``: the layer executed through the mapping with numpy buffers, counting the same.
- ``report``: energy, cycles and utilization from the counts (a Timeloop-like table).
- ``dataflows``: WS, OS, NLR and RS as mapping templates under one hardware budget.
- ``mapper``: the search for the best mapping, and the compulsory-traffic lower bound.
- ``systolic``: a conv layer as a GEMM on a rows x cols systolic array (output, weight and
  input stationary, as in SCALE-Sim): cycles, utilization, mapping efficiency, SRAM traffic.
- ``reuse``: how many MACs use each weight, input and output of a layer (convolutional,
  input-fmap and filter reuse).
- ``roofline``: peak compute and DRAM bandwidth of a machine (measured, TPU-v1-like,
  Eyeriss-like) and each layer's operational intensity under compulsory traffic.

Import what you need from the module, e.g. ``from cnnlib.hardware.energy import horowitz_pj``.
"""
