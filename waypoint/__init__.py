"""The ``waypoint`` command: the composition root that wires each package's verbs together."""
