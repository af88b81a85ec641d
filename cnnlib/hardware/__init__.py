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
- ``precision``: word size. ``PRECISIONS`` (fp32, fp16, int32, int16, int8), ``op_pj`` (Horowitz's
  add and multiply, int16 interpolated), ``Precision.mac_pj``, and ``priced(arch, prec, table)``:
  the same chip at another word size, priced relative to an int16 MAC (``"sze"``) or in pJ
  (``"45nm"``).
- ``sparse``: zeros. ``effective_counts(counts, arch, density, gating=, skipping=, rlc=)`` (zero
  gating, zero skipping, run-length-coded DRAM traffic) and ``rlc_bits_per_value(density)``.
- ``network``: a whole network. ``map_network(model, batch=, flow=, prec=, table=, density=,
  gating=, skipping=, rlc=, clock_hz=)`` maps every CONV/FC layer and returns a ``NetworkCost``
  with ``rows()``, ``total()`` (energy, cycles, latency, DRAM accesses per MAC, utilization,
  inferences/s, energy per inference, inferences/J, TOPS/W) and ``to_dict()`` (what
  ``python -m cnnlib map MODEL --all --json`` prints).

Energy per inference of LeNet-5 in int8 on the Eyeriss-like array, in pJ, with half the inputs
zero and the MACs that meet a zero skipped::

    from cnnlib.hardware.network import map_network
    net = map_network("lenet5", prec="int8", table="45nm", density={"inputs": 0.5}, skipping=True)
    net.total()["energy_per_inference_pj"]

Import what you need from the module, e.g. ``from cnnlib.hardware.energy import horowitz_pj``.
"""
