"""Waypoint's shared foundation: settings, the typed domain model, reference-data readers,
ranking features and the store. Imports none of the other Waypoint packages."""
