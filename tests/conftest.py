"""Settings for the whole suite: where the benchmark modules are, and hypothesis's profile.

The benchmark kernels (bench/kernels.py) double as test programs, so bench/ is
importable from every test module.

No deadline anywhere: a per-example time limit is a timed assertion, and the
machines that run the suite are shared and noisy (speed lives in bench/).
Under CI (``CI`` set) the examples are derandomized, so that a run is
reproducible from its commit; random exploration happens in every local run,
and at scale through the differential test's MINIJIT_DIFFERENTIAL_EXAMPLES.
"""

import os
import sys
from pathlib import Path

from hypothesis import settings

BENCH_DIR = Path(__file__).resolve().parents[1] / "bench"
sys.path.append(str(BENCH_DIR))

settings.register_profile("minijit", deadline=None, print_blob=True)
settings.register_profile("minijit-ci", deadline=None, print_blob=True, derandomize=True)
settings.load_profile("minijit-ci" if os.environ.get("CI") else "minijit")
