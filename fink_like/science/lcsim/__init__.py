"""Labelled light-curve simulator for ZTF and Rubin cadences.

:func:`simulate` draws alerts of the classes in :data:`CLASSES` as rows of the canonical
alert schema, with a ``label`` and ``truth_*`` columns, for training and testing science
modules. The physics and its limits are described in ``docs/lcsim.md``.

Examples
--------
>>> from fink_like.science.lcsim import simulate
>>> table = simulate(20, survey="rubin", seed=3)
>>> table.num_rows
20
"""

from fink_like.science.lcsim.assemble import LCSIM_SCHEMA, TRUTH_COLUMNS
from fink_like.science.lcsim.cadence import SimulationError, get_cadence
from fink_like.science.lcsim.simulate import CLASSES, simulate

__all__ = ["CLASSES", "LCSIM_SCHEMA", "TRUTH_COLUMNS", "SimulationError", "get_cadence", "simulate"]
