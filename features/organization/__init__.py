"""The open organization format: one file per entity, the models that validate them, and the
reader, writer and store synchronization that `waypoint import` and `waypoint export` use.

`records` defines every file's columns (pydantic models, the one definition the importer
validates with and ``docs/data-format.md`` is generated from); `files` lists the files; `reader`
streams a file's rows, validated, collecting problems as ``file:line:column``; `checks` (with
`duplicates`) checks ids and dates across rows and files, keeping only id sets; `validate` is
the import's first pass over a folder; `convert` maps records to store rows; `sync` is the
second pass, writing the folder to the store incrementally, in chunks, in one transaction;
`export` writes the store back out in the format; `docs` renders the documentation and JSON
Schemas.
"""
