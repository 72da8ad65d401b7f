"""Conformance tier (issue 6): black-box checks of a running suite with the real VO tools.

Entry point: ``bash conformance/run`` (``python -m conformance``). Not part of the
installed package: it drives the suite through its command line and HTTP, and imports
from ``vo`` only the ADQL parser (to judge the corpora) and the SAMP bridge (through
conformance/samp). Modules: suite (start/stop), taplint, xsd, votlint, documents,
corpus, clients, samp_checks, report (expectations and verdict), harness (main).
"""
