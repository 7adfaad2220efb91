"""Science modules: the plugin contract, the entry-point registry, the runner and validation.

Import the pieces from their modules (``fink_like.science.base.ScienceModule``,
``fink_like.science.runner.ScienceRunner``); this package stays light so that importing
one of them does not import the others.
"""
