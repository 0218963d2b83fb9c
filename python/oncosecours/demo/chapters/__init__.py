"""The chapters of the crisis day, one class per part of the story; :class:`~oncosecours.demo.scenario.CrisisDay`
plays them in order."""
