"""What the BLAS benchmarks share: run as a user's machine does, and say which kernels ran.

Importing this module, before numpy, measures as a user's machine runs: if
``OPENBLAS_CORETYPE`` or ``OPENBLAS_L2_SIZE`` is set (some CI machines pin numpy's OpenBLAS to
older kernels that way), the script is re-executed without them, for its own process only.
``kernels()`` names the OpenBLAS kernel in use (threadpoolctl's ``architecture``) and PyTorch's
CPU capability, for the head of every table.
"""

from __future__ import annotations

import os
import sys

# Pins that make OpenBLAS pick older kernels; removed for this process before numpy loads BLAS.
PINNED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(var in os.environ for var in PINNED):
    os.execve(sys.executable, [sys.executable, *sys.argv],
              {key: value for key, value in os.environ.items() if key not in PINNED})


def kernels(torch=None) -> str:
    """The BLAS kernels in use and, if ``torch`` (the module) is given, PyTorch's CPU capability."""
    from threadpoolctl import threadpool_info

    blas = [f"{info['internal_api']} {info.get('version')} {info.get('architecture', '?')} kernel"
            for info in threadpool_info() if info["user_api"] == "blas"]
    cpu = f"torch CPU capability {torch.backends.cpu.get_cpu_capability()}" if torch else "no torch"
    pins = ", ".join(f"{var}={os.environ[var]}" for var in PINNED if var in os.environ) or "none"
    return f"{'; '.join(blas) or 'no BLAS found'}; {cpu}; OpenBLAS pins: {pins}"
