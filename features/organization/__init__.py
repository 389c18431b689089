"""The open organization format: one file per entity, the models that validate them, and the
reader, writer and store synchronization that `waypoint import` and `waypoint export` use.

`records` defines every file's columns (pydantic models, the one definition the importer
validates with and ``docs/data-format.md`` is generated from); `files` lists the files; `reader`
parses and validates a folder, collecting problems as ``file:line:column``; `convert` maps
records to and from the domain model; `sync` writes an organization to the store incrementally
in one transaction; `export` writes the store back out in the format; `docs` renders the
documentation and JSON Schemas.
"""
