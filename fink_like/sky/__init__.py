"""Sky geometry shared by watch lists, the ZTF x Rubin association, event matching and linking.

* :mod:`fink_like.sky.cone`: great-circle distances, cone matching (exact, vectorised)
  and the HEALPix pixels covering a cone.
* :mod:`fink_like.sky.projection`: the gnomonic (tangent-plane) projection.
* :mod:`fink_like.sky.moc`: multi-order coverage maps (mocpy), read, checked and matched.
* :mod:`fink_like.sky.skymap`: probability sky maps (multi-order or flat HEALPix) and
  their credible regions.

All work on plain numpy arrays of RA/Dec in degrees (ICRS) and know nothing of Spark.
"""

from fink_like.sky.cone import disc_pixels, in_any_cone, pairs_within, separation_deg, unit_vectors
from fink_like.sky.moc import SkyRegion, load_moc
from fink_like.sky.projection import tangent_plane
from fink_like.sky.skymap import ProbabilityMap, SkyMapError

__all__ = ["ProbabilityMap", "SkyMapError", "SkyRegion", "disc_pixels", "in_any_cone", "load_moc", "pairs_within",
           "separation_deg", "tangent_plane", "unit_vectors"]
