"""``docs/data-format.md`` and one JSON Schema per file, generated from the `records` models
(``waypoint data-format`` writes them; a test fails when the committed copies are stale)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from features.organization.files import FILES, FileSpec
from features.organization.records import __doc__ as RECORDS_DOC

SCHEMA_FOLDER = "data-format"
"""JSON Schemas live in ``docs/data-format/<file stem>.schema.json``."""

INTRO = """# The organization format

Waypoint reads a company's HR data as one folder of files, one file per entity: CSV, and JSON
lines where the text is long (performance reviews). `waypoint import DIR` validates every file
before it writes anything and reports every problem as `file:line:column: column: message`;
`waypoint export --out DIR` writes a store's organization in the same format (the demo writes
the simulated company to `models/org_export/` as a complete example).

This page is generated from the pydantic models the importer validates with
(`features/organization/records.py`) by `waypoint data-format`; each file also has a JSON
Schema of one row in [`docs/data-format/`](data-format/). Do not edit it by hand.

{records}

## Import rules

- **All or nothing.** Every file is read and checked (types, enums, required columns and
  values, duplicate ids, references to unknown ids, dates in the future, bad UTF-8) before the
  store is touched; then everything is written in one transaction. Reporting stops at
  `--max-problems` problems (default 100) and says how many more there were.
- **Streamed.** The files are read twice, as streams: once to check them, keeping only their
  ids (and the roles), and once to write them, 5,000 rows at a time, each batch compared with
  the stored rows of the same ids. An import's memory grows with the number of ids, not with
  the size of the files, and a progress bar shows each file (`--no-progress` turns it off).
  A file that changes between the two reads fails the import with nothing written. A line of
  a `.jsonl` file ends at a line feed (or carriage return): a text may hold U+2028 or U+0085.
- **Incremental and idempotent.** Rows are matched by id: new rows are inserted, changed rows
  updated, equal rows left alone. Importing the same files twice changes nothing (not even the
  dataset version). Rows absent from a file are kept (history stays); an optional file that is
  absent leaves that entity as it is. References may point at ids the store already holds.
- **People who leave.** An employee absent from a later `employees.csv`, or present with
  `left_on`, is marked as left (table `employee_departures`, with the date) and is no longer
  discoverable; their row, reviews and moves stay (training still learns from their history).
  Serving treats them as gone: they are never in a candidate list (even if their flag is set
  again), their own sign-in is refused with 403 (a Waypoint token or the identity provider's),
  and their employee views (recommendations, plans, profile, candidate view) answer 410 to
  every caller; managers' report lists leave them out. Someone who reappears in a later
  `employees.csv` without `left_on` is back. `waypoint import --replace` instead replaces the
  whole organization (a different company).
- **Roles and occupations.** A role is linked to an occupation by, in this order: a row of
  `occupation_overrides.csv` (or an override stored by an earlier import: an HR admin's
  decision wins on every re-import); the `onet_code` / `occupation_uri` given in `roles.csv`;
  else the job-title normalizer (`waypoint titles`) matches its title to an ESCO occupation
  and keeps the link, its score and the O\\*NET code the crosswalk gives. `waypoint import`
  prints the title links; `waypoint export` writes every link to
  `role_occupation_links.csv` for review (that file is not read by the import). To correct a
  link, add the role to `occupation_overrides.csv` and import again.
- **Protected attributes** (`protected_attributes.csv`, optional) are stored in their own
  table, read only by the fairness audit; `waypoint export` writes them only with
  `--protected`.

## Files
"""


def _type(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in prop:
        target = defs[prop["$ref"].rsplit("/", 1)[-1]]
        if "enum" in target:
            return "one of " + ", ".join(f"`{v}`" for v in target["enum"])
        return str(target.get("type", "object"))
    if "anyOf" in prop:
        kinds = [_type(p, defs) for p in prop["anyOf"] if p.get("type") != "null"]
        return " or ".join(kinds)
    kind = prop.get("type", "string")
    if kind == "array":
        return "ESCO URIs separated by spaces"
    fmt = prop.get("format")
    if fmt == "date":
        return "date (YYYY-MM-DD)"
    if fmt == "date-time":
        return "timestamp (ISO 8601)"
    if kind == "integer" and "minimum" in prop and "maximum" in prop:
        return f"integer {prop['minimum']} to {prop['maximum']}"
    if kind == "integer" and "minimum" in prop:
        return f"integer >= {prop['minimum']}"
    if "pattern" in prop and prop["pattern"].startswith("^\\d"):
        return "O*NET-SOC code (NN-NNNN.NN)"
    return {"boolean": "boolean (true / false)"}.get(kind, str(kind))


def _example(value: Any) -> str:
    if value in ("", None):
        return "(empty)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def file_section(spec: FileSpec) -> str:
    schema = spec.record.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    doc = textwrap.fill(" ".join((spec.record.__doc__ or "").split()).replace("``", "`"),
                        width=95)
    kind = "CSV with a header row" if spec.format == "csv" else "JSON lines (one object a line)"
    lines = [f"### `{spec.name}`", "",
             f"{doc}", "",
             f"{kind}; {'**required**' if spec.required else 'optional'}; rows are identified "
             f"by `{spec.key}`.  ",
             f"Schema: [`{spec.stem}.schema.json`]({SCHEMA_FOLDER}/{spec.stem}.schema.json)", "",
             "| column | type | required | description | example |",
             "|---|---|---|---|---|"]
    for name, prop in schema["properties"].items():
        info = spec.record.model_fields[name]
        examples = info.examples or [""]
        description = (info.description or "").replace("|", "\\|")
        lines.append(f"| `{name}` | {_type(prop, defs)} | "
                     f"{'yes' if name in required else 'no'} | {description} | "
                     f"`{_example(examples[0])}` |")
    return "\n".join(lines) + "\n"


def render_markdown() -> str:
    records = textwrap.fill(" ".join((RECORDS_DOC or "").split("\n\n", 1)[1].split())
                            .replace("``", "`"), width=95)
    parts = [INTRO.format(records=records)]
    parts.extend(file_section(spec) for spec in FILES)
    return "\n".join(parts)


def render_schemas() -> dict[str, str]:
    """``{file name under docs/data-format/: JSON text}``."""
    out = {}
    for spec in FILES:
        schema = spec.record.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = f"{spec.name}: one row"
        out[f"{spec.stem}.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def write_docs(docs_dir: Path) -> list[Path]:
    """Write ``data-format.md`` and the schemas under ``docs_dir``; the paths written."""
    written = [docs_dir / "data-format.md"]
    written[0].write_text(render_markdown())
    folder = docs_dir / SCHEMA_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in render_schemas().items():
        (folder / name).write_text(text)
        written.append(folder / name)
    return written


def stale_docs(docs_dir: Path) -> list[Path]:
    """Generated files whose committed copy differs from what the models say now."""
    expected = {docs_dir / "data-format.md": render_markdown()}
    expected.update({docs_dir / SCHEMA_FOLDER / n: s for n, s in render_schemas().items()})
    return [p for p, text in expected.items() if not p.is_file() or p.read_text() != text]
