"""The serving model holder (load, reload, state) and the served-list audit log."""
