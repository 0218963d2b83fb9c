"""One function per ribbon button (see :mod:`oncosecours.excel.registry`): read the form or the
selected rows through the adapter, call the same service as the CLI command, write back in bulk.

Each handler takes the :class:`~oncosecours.excel.context.Context` and returns the French
confirmation shown in Accueil's « Dernière action » and the status bar.
"""
