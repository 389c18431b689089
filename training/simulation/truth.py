"""The hidden truth file, written division by division (``simulation_truth.json.gz``).

One gzip JSON object, ``{"skill_uris": [...], "employees": {id: {...}}, "applications":
[[opportunity id, employee id, fit, chosen], ...]}``, byte for byte what one ``json.dumps`` of
the whole would give: each division's employees are appended as they come, its applications
go to a spool file beside the target and follow the employees at the end. The file is written
under a temporary name and renamed into place by `TruthWriter.close`, so an interrupted run
never leaves half a truth file (the previous one, if any, stays). Evaluation only: nothing in
the pipeline takes it as an input but the evaluations (docs/simulation.md).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np

from training.simulation.history import Application
from training.simulation.people import Person

SEPARATORS = (",", ":")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=SEPARATORS)


def truth_of(person: Person, iso: dict[int, str]) -> dict[str, Any]:
    """One employee's true skills: indices into ``skill_uris``, proficiency, held since."""
    skills = person.skills
    return {"skill": skills.idx.tolist(),
            "proficiency": np.round(skills.prof.astype(np.float64), 3).tolist(),
            "since": [iso[d] for d in skills.since.tolist()]}


class TruthWriter:
    """Append divisions' people and applications; `close` completes the file (see module)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # a name of this process's own beside the target, created with the usual permissions
        self._partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        # open until close / discard (the writer is itself the context manager)
        self._out: IO[str] = gzip.open(self._partial, "wt", compresslevel=1)  # noqa: SIM115
        self._spool: IO[str] = tempfile.TemporaryFile("w+t", dir=path.parent)  # noqa: SIM115
        self._employees = self._applications = 0
        self._started = False

    def add(self, skill_uris: list[str], people: list[Person],
            applications: list[Application]) -> None:
        """One division: ``applications`` index into ``people``, skills into ``skill_uris``
        (the same list for every division: the first one's is written)."""
        if not self._started:
            self._out.write('{"skill_uris":' + _dumps(skill_uris) + ',"employees":{')
            self._started = True
        days = {int(d) for p in people for d in np.unique(p.skills.since)}
        iso = {d: date.fromordinal(d).isoformat() for d in days}
        for person in people:
            self._out.write(("," if self._employees else "") + _dumps(person.id) + ":"
                            + _dumps(truth_of(person, iso)))
            self._employees += 1
        for a in applications:
            self._spool.write(("," if self._applications else "")
                              + _dumps([a.opportunity_id, people[a.person].id, round(a.fit, 4),
                                        a.chosen]))
            self._applications += 1

    def close(self) -> None:
        """Write the applications after the employees and rename the file into place."""
        if not self._started:
            raise ValueError("a truth file needs at least one division")
        self._out.write('},"applications":[')
        self._spool.seek(0)
        shutil.copyfileobj(self._spool, self._out)
        self._out.write("]}")
        self._out.close()
        self._spool.close()
        self._partial.replace(self.path)

    def discard(self) -> None:
        """Drop the partial file (a failed run): the previous truth file, if any, stays."""
        self._out.close()
        self._spool.close()
        self._partial.unlink(missing_ok=True)

    def __enter__(self) -> TruthWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is None:
            self.close()
        else:
            self.discard()
