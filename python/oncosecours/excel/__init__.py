"""The emergency workbook: builder, ribbon actions and the xlwings adapter.

Keep this package's import light: the ribbon's entry point (:mod:`oncosecours.excel.ribbon`) runs
in a fresh Python process for every click.
"""
