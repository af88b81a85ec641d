"""cnnlib: the numpy library of the course "CNNs for Hardware for Deep Learning".

Modules, in the order the course meets them: ``history`` (ILSVRC results), ``activations``,
``approx`` (hardware approximations of activations), ``layers`` (functional forward and
backward), ``counting`` (output sizes, weights, MACs, memory, conventions, ``summary`` tables),
``loopnest`` (the seven-loop convolution in any order, tiled), ``data`` (checksummed data); ``viz`` and
``widgets`` draw the notebooks' figures and explorers.
"""

__version__ = "0.1.0"
