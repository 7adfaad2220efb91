"""Multi-messenger events: GCN notices, their sky regions, the event store, live and retroactive matching.

Read in order: :mod:`~fink_like.mm.notices` (notice -> event), :mod:`~fink_like.mm.regions`
and :mod:`~fink_like.mm.skymap` (localisations), :mod:`~fink_like.mm.store` (versions),
:mod:`~fink_like.mm.match` (the one matching rule), :mod:`~fink_like.mm.retro` (the
archive search), :mod:`~fink_like.mm.ingest` and :mod:`~fink_like.mm.listen` (the
commands' loop). The live matcher is the ``mm`` science module (``science_modules/mm``).
The geometry underneath (distances, projections, sky maps and credible regions) is
:mod:`fink_like.sky`'s. See ``docs/multimessenger.md``.
"""
