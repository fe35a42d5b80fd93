"""Antre: the queue system of a Mal Pelayanan Publik.

This package holds the parts with no web framework in them: the queue rules
(:mod:`antre.queue`), the SQLite store (:mod:`antre.store`) and their helpers.
"""

__version__ = "1.0.0"
