"""Benchmarks and operator tools: above services, beside the shells (the CLI runs them).

Nothing below imports this package. Here: the restore of a second copy (:mod:`.restore`), the
README pictures (:mod:`.captures`) and the benchmarks behind ``oncosecours bench ...``
(:mod:`.bench_refresh`, :mod:`.bench_backup`, :mod:`.bench_documents`, :mod:`.bench_ribbon`).
"""
