"""vo-suite: a Virtual Observatory service suite (ADQL, TAP, UWS, SIA, SAMP) on PostgreSQL.

Layers (a package imports only from layers below it; see DESIGN.md and the
import-linter contract in pyproject.toml):

    L6 vo.cli   L5 vo.web   L4 vo.tap vo.sia vo.registry   L3 vo.uws catalogs.ingest
    L2 vo.db    L1 vo.adql vo.votable vo.formats vo.healpix vo.samp
    L0 vo.errors vo.config
"""

__version__ = "0.1.0"
