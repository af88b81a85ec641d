"""Shared test settings.

Hypothesis runs derandomized (the same examples every run, so CI is reproducible) and without
per-example deadlines (the machine is shared and timings are noisy; speed is measured by the
scripts in benchmarks/, never by tests).
"""

import matplotlib
from hypothesis import settings

matplotlib.use("Agg")

settings.register_profile("course", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("course")
