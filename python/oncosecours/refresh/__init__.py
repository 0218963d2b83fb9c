"""Reloading the Chimio backups: declarative queries (``queries/*.toml``) run by a pandas engine.

* :mod:`oncosecours.refresh.model`  - the canonical model of the snapshot (the one place);
* :mod:`oncosecours.refresh.query`  - reading and checking the query files (no pandas);
* :mod:`oncosecours.refresh.reader` - reading the backup files (pyarrow), with diagnostics;
* :mod:`oncosecours.refresh.steps`  - the applied steps (pandas);
* :mod:`oncosecours.refresh.engine` - running the five queries into one checked snapshot;
* :mod:`oncosecours.refresh.status` - age and counts of the loaded snapshot (no pandas);
* :mod:`oncosecours.refresh.synth`  - the synthetic backup generator;
* the refresh benchmark lives with the other benchmarks in :mod:`oncosecours.ops.bench_refresh`.

This package's ``__init__`` imports nothing, so that ``status`` stays light on ribbon paths.
"""
