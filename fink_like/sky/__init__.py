"""Sky geometry shared by watch lists, the ZTF x Rubin association and event matching.

* :mod:`fink_like.sky.cone`: great-circle cone matching (exact, vectorised).
* :mod:`fink_like.sky.moc`: multi-order coverage maps (mocpy), read, checked and matched.

Both work on plain numpy arrays of RA/Dec in degrees (ICRS) and know nothing of Spark.
"""

from fink_like.sky.cone import in_any_cone, pairs_within, unit_vectors
from fink_like.sky.moc import SkyRegion, load_moc

__all__ = ["SkyRegion", "in_any_cone", "load_moc", "pairs_within", "unit_vectors"]
