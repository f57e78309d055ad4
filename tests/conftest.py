"""Hypothesis settings for the whole suite.

No deadline anywhere: a per-example time limit is a timed assertion, and the
machines that run the suite are shared and noisy (speed lives in bench/).
Under CI (``CI`` set) the examples are derandomized, so that a run is
reproducible from its commit; random exploration happens in every local run,
and at scale through the differential test's MINIJIT_DIFFERENTIAL_EXAMPLES.
"""

import os

from hypothesis import settings

settings.register_profile("minijit", deadline=None, print_blob=True)
settings.register_profile("minijit-ci", deadline=None, print_blob=True, derandomize=True)
settings.load_profile("minijit-ci" if os.environ.get("CI") else "minijit")
