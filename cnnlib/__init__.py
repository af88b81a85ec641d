"""cnnlib: the numpy library of the course "CNNs for Hardware for Deep Learning".

Modules, in the order the course meets them:

- ``history`` (ILSVRC results), ``activations``, ``approx`` (hardware approximations of activations);
- ``shapes`` (the lecture's layer shape and output-size formula), ``layers`` (functional forward and
  backward: the readable ``conv2d`` first, its fast path in ``layers.conv_fast``), ``nn`` (layer objects
  and containers), ``counting`` (weights, MACs, memory, conventions, ``summary`` tables), ``loopnest``
  (the seven-loop convolution in any order, tiled);
- ``models`` (one definition of each network), ``data`` (checksummed data), ``train`` (loss,
  optimizers, the LeNet-5 recipes);
- ``hardware`` (energy, roofline, reuse, mappings, the mapper, dataflows, systolic arrays, precision,
  sparsity, a whole network on a chip);
- ``quantize`` (reduced precision, integer-only inference), ``sparsity`` (pruning, compressed formats),
  ``fastconv`` (Winograd, FFT and Toeplitz convolution, and their operation counts);
- ``viz`` and ``widgets`` draw the notebooks' figures and explorers; ``python -m cnnlib`` is the CLI.
"""

__version__ = "0.1.0"
