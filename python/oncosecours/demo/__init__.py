"""``oncosecours demo``: a whole crisis day, played through the same services as the CLI and ribbon.

* :mod:`oncosecours.demo.identities` - the demo team and the synthetic patients (no real person);
* :mod:`oncosecours.demo.workspace`  - the output folder (fresh each run) and its settings file;
* :mod:`oncosecours.demo.scenario`   - the crisis day, step by step, as plain service calls;
* :mod:`oncosecours.demo.summary`    - the short French summary and its JSON form.

Nothing here writes SQL: every change goes through ``oncosecours.services``.
"""
