"""Job-title normalization: a free-text title to ESCO occupations (with their O*NET-SOC code
where the crosswalk links one), from a prebuilt index (``waypoint titles build``)."""

from inference.titles.matcher import (
    Match,
    MatchSettings,
    Occupation,
    TitleIndexUnavailable,
    TitleMatcher,
    load_matcher,
)
from inference.titles.normalize import normalize_title

__all__ = ["Match", "MatchSettings", "Occupation", "TitleIndexUnavailable", "TitleMatcher",
           "load_matcher", "normalize_title"]
