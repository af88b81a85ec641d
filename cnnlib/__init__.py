"""cnnlib: the numpy library of the course "CNNs for Hardware for Deep Learning".

Modules, in the order the course meets them: ``activations``, ``layers`` (functional forward
and backward), ``counting`` (output sizes, weights, MACs), ``data`` (checksummed data).
"""

__version__ = "0.1.0"
