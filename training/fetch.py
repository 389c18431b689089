"""``waypoint data fetch``: download the official ESCO, O*NET and SkillSpan files into a cache.

For users with internet access; the files land in the same layout as ``../shared/data`` so
``WAYPOINT_DATA_DIR`` can point at the cache. Every file is downloaded to a temporary name and
renamed into place only when complete. Offline, it fails with one clear message.
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from features.errors import OfflineError
from features.taxonomy import ESCO_FILES

log = logging.getLogger(__name__)

ESCO_BASE = ("https://raw.githubusercontent.com/tabiya-tech/tabiya-esco-datasets-and-tools/"
             "main/datasets/esco/v1.1.1/")
ONET_ZIP = "https://www.onetcenter.org/dl_files/database/db_29_3_text.zip"
ONET_MEMBERS = (
    "Occupation Data.txt", "Job Zones.txt", "Task Statements.txt", "Technology Skills.txt",
    "Skills.txt", "Knowledge.txt", "Alternate Titles.txt",
)
CAREER_CHANGERS_MEMBER = "Career Changers Matrix.txt"
SKILLSPAN_BASE = "https://raw.githubusercontent.com/kris927b/SkillSpan/main/data/json/"


@dataclass(frozen=True)
class FetchResult:
    target: Path
    files: list[Path]


def _download(url: str, timeout: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data: bytes = response.read()
            return data
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise OfflineError(
            f"cannot download {url} ({exc}). This machine looks offline: copy the ESCO v1.1.1 "
            "and O*NET 29.3 files into a folder laid out like ../shared/data and set "
            "WAYPOINT_DATA_DIR to it."
        ) from None


def _write_atomic(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".part") as tmp:
        tmp.write(data)
    Path(tmp.name).replace(path)
    return path


def fetch_reference_data(target: Path, *, timeout: float = 30.0) -> FetchResult:
    written: list[Path] = []
    for relative in ESCO_FILES.values():
        name = Path(relative).name
        written.append(_write_atomic(target / relative, _download(ESCO_BASE + name, timeout)))
    archive = zipfile.ZipFile(io.BytesIO(_download(ONET_ZIP, timeout)))
    members = {Path(name).name: name for name in archive.namelist()}
    for name in ONET_MEMBERS:
        written.append(_write_atomic(target / "onet" / name, archive.read(members[name])))
    if CAREER_CHANGERS_MEMBER in members:
        written.append(_write_atomic(target / "onet-career-changers" / CAREER_CHANGERS_MEMBER,
                                     archive.read(members[CAREER_CHANGERS_MEMBER])))
    for split in ("train.json", "dev.json"):
        written.append(_write_atomic(target / "skillspan" / "json" / split,
                                     _download(SKILLSPAN_BASE + split, timeout)))
    log.info("fetched %d files into %s", len(written), target)
    return FetchResult(target=target, files=written)


def clear_cache(target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
