"""Render a fairness audit as Markdown and HTML, with PNG plots next to them.

`write_report` lays the audit out once as a list of blocks (headings, paragraphs, tables,
images) and renders that list twice, so the Markdown and the HTML always say the same thing.
Plots use matplotlib's object API on the Agg canvas (no pyplot, no global backend state).
`mlflow_metrics` (re-exported) flattens the same figures into ``{name: float}``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from inference.fairness.export import mlflow_metrics
from inference.fairness.gate import GateResult
from inference.fairness.models import (
    CandidateListAudit,
    EmployeeListAudit,
    FairnessAudit,
    RankingAudit,
)

__all__ = ["ReportFiles", "mlflow_metrics", "write_report"]

FOUR_FIFTHS = 0.8


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: Sequence[str]


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class Image:
    file_name: str
    alt: str


Block = Heading | Paragraph | Bullets | Table | Image


@dataclass(frozen=True)
class ReportFiles:
    markdown: Path
    html: Path
    images: list[Path] = field(default_factory=list)


# --------------------------------------------------------------------------- formatting


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def _num(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}g}"


def _flags(small: bool, unknown: bool) -> str:
    return ", ".join(f for f, on in (("small group", small), ("unknown", unknown)) if on)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower() or "x"


# --------------------------------------------------------------------------- plots


def _bar_plot(
    path: Path, title: str, groups: Sequence[str], series: dict[str, Sequence[float | None]],
    small: Sequence[bool], threshold: float | None = FOUR_FIFTHS, xlabel: str = "impact ratio",
) -> Path:
    from matplotlib.figure import Figure

    n = max(len(groups), 1)
    fig = Figure(figsize=(7.5, 1.2 + 0.32 * n * max(len(series), 1)))
    ax = fig.add_subplot()
    height = 0.8 / max(len(series), 1)
    for j, (name, values) in enumerate(series.items()):
        ys = [i + j * height for i in range(len(groups))]
        xs = [0.0 if v is None else v for v in values]
        bars = ax.barh(ys, xs, height=height, label=name)
        for bar, is_small in zip(bars, small, strict=True):
            if is_small:
                bar.set_hatch("//")
                bar.set_alpha(0.5)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(groups))])
    ax.set_yticklabels([f"{g} (small)" if s else g for g, s in zip(groups, small, strict=True)])
    ax.invert_yaxis()
    if threshold is not None:
        ax.axvline(threshold, color="crimson", linestyle="--", linewidth=1,
                   label=f"threshold {threshold:g}")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def _bin_plot(path: Path, title: str, audit_dim_bins: Sequence[tuple[str, str, float | None]],
              ylabel: str) -> Path:
    from matplotlib.figure import Figure

    bins = list(dict.fromkeys(b for b, _, _ in audit_dim_bins))
    groups = list(dict.fromkeys(g for _, g, _ in audit_dim_bins))
    fig = Figure(figsize=(7.5, 4))
    ax = fig.add_subplot()
    for g in groups:
        pts = [(bins.index(b), v) for b, gg, v in audit_dim_bins if gg == g and v is not None]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=g)
    ax.set_xticks(range(len(bins)))
    ax.set_xticklabels(bins, rotation=20, ha="right", fontsize="small")
    ax.set_xlabel("fit bin")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(groups) <= 12:
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


# --------------------------------------------------------------------------- sections


def _gate_blocks(gate: GateResult) -> list[Block]:
    verdict = "PASSED" if gate.passed else "FAILED"
    blocks: list[Block] = [Heading(2, f"Gate: {verdict}"),
                           Paragraph(f"{gate.n_checked} figures checked.")]
    if gate.violations:
        blocks += [Paragraph("Violations:"), Bullets(gate.violations)]
    if gate.notes:
        blocks += [Paragraph("Shown but not gated:"), Bullets(gate.notes)]
    return blocks


def _candidate_blocks(c: CandidateListAudit, out: Path, stem: str, images: list[Path]
                      ) -> list[Block]:
    median = ("the pooled sample median" + (f" ({c.sample_median_score:.4g})"
              if c.sample_median_score is not None else "")
              if c.median_scope == "sample" else "each list's own median")
    blocks: list[Block] = [
        Heading(2, "Candidate lists (recruiter-facing)"),
        Paragraph(f"{c.n_lists} lists, {c.n_candidates} eligible candidate rows "
                  f"({c.n_unique_candidates} people). Selection: placed in the top {c.k}. "
                  f"Scoring: scored above {median}. Impact ratios are against the highest rate "
                  f"among groups with at least {_pct(c.small_group_threshold)} of the sample; "
                  "smaller groups are shown and flagged, not gated."),
    ]
    for dim in c.dimensions:
        blocks.append(Heading(3, dim.dimension))
        blocks.append(Table(
            ["group", "candidates", "share", "selected", "selection rate",
             "selection impact ratio", "above median", "scoring rate", "scoring impact ratio",
             "flags"],
            [[g.group, str(g.n_candidates), _pct(g.share_of_sample), str(g.n_selected),
              _pct(g.selection_rate), _ratio(g.selection_impact_ratio),
              str(g.n_scored_above_median), _pct(g.scoring_rate),
              _ratio(g.scoring_impact_ratio), _flags(g.small_group, g.unknown)]
             for g in dim.groups],
        ))
        blocks.append(Paragraph(
            f"Minimum impact ratio (non-small groups): selection "
            f"{_ratio(dim.min_selection_impact_ratio)} (reference "
            f"{dim.selection_reference_group}), scoring {_ratio(dim.min_scoring_impact_ratio)} "
            f"(reference {dim.scoring_reference_group})."))
        if dim.groups:
            path = _bar_plot(
                out / f"{stem}_candidates_{_slug(dim.dimension)}.png",
                f"Candidate lists: impact ratios by {dim.dimension}",
                [g.group for g in dim.groups],
                {"selection": [g.selection_impact_ratio for g in dim.groups],
                 "scoring": [g.scoring_impact_ratio for g in dim.groups]},
                [g.small_group for g in dim.groups],
            )
            images.append(path)
            blocks.append(Image(path.name, f"impact ratios by {dim.dimension}"))
    return blocks


def _ranking_blocks(r: RankingAudit, out: Path, stem: str, images: list[Path]) -> list[Block]:
    cut = "the whole list" if r.k is None else f"the top {r.k}"
    blocks: list[Block] = [
        Heading(2, "Exposure and representation in rankings"),
        Paragraph(f"{r.n_lists} lists; exposure weight 1/log2(1 + rank) over {cut}; skew@k = "
                  "log(share in the top k / share of the qualified pool); NDKL is 0 when every "
                  "prefix matches the pool."),
    ]
    for dim in r.dimensions:
        blocks.append(Heading(3, dim.dimension))
        blocks.append(Table(
            ["group", "listed", "share", "exposure share", "exposure per member",
             "exposure impact ratio", "mean skew@k", "min skew@k", "flags"],
            [[g.group, str(g.n_candidates), _pct(g.share_of_sample), _pct(g.share_of_exposure),
              _num(g.mean_exposure), _ratio(g.exposure_impact_ratio), _num(g.mean_skew_at_k),
              _num(g.min_skew_at_k), _flags(g.small_group, g.unknown)] for g in dim.groups],
        ))
        blocks.append(Paragraph(f"NDKL: mean {_num(dim.mean_ndkl)}, worst {_num(dim.max_ndkl)}."))
        if dim.groups:
            path = _bar_plot(
                out / f"{stem}_exposure_{_slug(dim.dimension)}.png",
                f"Exposure per member, ratio to the best group, by {dim.dimension}",
                [g.group for g in dim.groups],
                {"exposure": [g.exposure_impact_ratio for g in dim.groups]},
                [g.small_group for g in dim.groups],
            )
            images.append(path)
            blocks.append(Image(path.name, f"exposure by {dim.dimension}"))
    return blocks


def _employee_blocks(e: EmployeeListAudit, out: Path, stem: str, images: list[Path]
                     ) -> list[Block]:
    blocks: list[Block] = [
        Heading(2, "Employee-facing recommendations"),
        Paragraph(f"{e.n_employees} employees in {e.n_bins} fit bins (edges "
                  f"{', '.join(f'{x:.3g}' for x in e.fit_bin_edges)}). Within each bin the mean "
                  "level and predicted quality of what each group is shown are compared; the "
                  "adjusted means standardize over bins (weights: bin sizes)."),
    ]
    for dim in e.dimensions:
        blocks.append(Heading(3, dim.dimension))
        blocks.append(Table(
            ["group", "employees", "shown nothing", "adj. mean level", "level gap",
             "level impact ratio", "adj. mean quality", "quality gap", "quality impact ratio",
             "flags"],
            [[g.group, str(g.n_employees), str(g.n_without_recommendations),
              _num(g.adjusted_mean_level), _num(g.level_gap), _ratio(g.level_impact_ratio),
              _num(g.adjusted_mean_quality), _num(g.quality_gap),
              _ratio(g.quality_impact_ratio), _flags(g.small_group, g.unknown)]
             for g in dim.groups],
        ))
        blocks.append(Table(
            ["fit bin", "group", "employees", "mean level", "mean quality"],
            [[b.fit_bin, b.group, str(b.n_employees), _num(b.mean_level), _num(b.mean_quality)]
             for b in dim.bins],
        ))
        if dim.bins:
            path = _bin_plot(
                out / f"{stem}_levels_{_slug(dim.dimension)}.png",
                f"Mean level recommended, by fit bin and {dim.dimension}",
                [(b.fit_bin, b.group, b.mean_level) for b in dim.bins], "mean level",
            )
            images.append(path)
            blocks.append(Image(path.name, f"levels by fit and {dim.dimension}"))
    return blocks


def build_blocks(audit: FairnessAudit, out: Path, stem: str, gate: GateResult | None,
                 title: str) -> tuple[list[Block], list[Path]]:
    images: list[Path] = []
    blocks: list[Block] = [Heading(1, title)]
    if audit.subject:
        blocks.append(Paragraph(f"Subject: {audit.subject}"))
    if gate is not None:
        blocks += _gate_blocks(gate)
    if audit.candidate_lists is not None:
        blocks += _candidate_blocks(audit.candidate_lists, out, stem, images)
    if audit.rankings is not None:
        blocks += _ranking_blocks(audit.rankings, out, stem, images)
    if audit.ndcg is not None:
        n = audit.ndcg
        blocks += [Heading(2, "Cost of fair re-ranking"),
                   Paragraph(f"NDCG@{n.k} over {n.n_lists} lists: {n.before:.4f} before, "
                             f"{n.after:.4f} after ({n.delta:+.4f}).")]
    if audit.employee_lists is not None:
        blocks += _employee_blocks(audit.employee_lists, out, stem, images)
    return blocks, images


# --------------------------------------------------------------------------- renderers


def markdown_cell(text: str) -> str:
    """``text`` safe inside a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: Sequence[Block]) -> str:
    parts: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            parts.append(f"{'#' * b.level} {b.text}")
        elif isinstance(b, Paragraph):
            parts.append(b.text)
        elif isinstance(b, Bullets):
            parts.append("\n".join(f"- {item}" for item in b.items))
        elif isinstance(b, Table):
            lines = ["| " + " | ".join(markdown_cell(h) for h in b.headers) + " |",
                     "|" + "|".join("---" for _ in b.headers) + "|"]
            lines += ["| " + " | ".join(markdown_cell(c) for c in row) + " |" for row in b.rows]
            parts.append("\n".join(lines))
        else:
            parts.append(f"![{b.alt}]({b.file_name})")
    return "\n\n".join(parts) + "\n"


_CSS = ("body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;"
        "padding:.25rem .5rem;text-align:left}th{background:#f4f4f4}img{max-width:100%}")


def to_html(blocks: Sequence[Block], title: str) -> str:
    e = html.escape
    parts = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>{e(title)}</title><style>{_CSS}</style></head><body>"]
    for b in blocks:
        if isinstance(b, Heading):
            parts.append(f"<h{b.level}>{e(b.text)}</h{b.level}>")
        elif isinstance(b, Paragraph):
            parts.append(f"<p>{e(b.text)}</p>")
        elif isinstance(b, Bullets):
            parts.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{e(h)}</th>" for h in b.headers)
            body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                           for row in b.rows)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        else:
            parts.append(f"<p><img src=\"{e(b.file_name)}\" alt=\"{e(b.alt)}\"></p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(
    audit: FairnessAudit,
    out_dir: Path,
    *,
    gate: GateResult | None = None,
    title: str = "Fairness audit",
    stem: str = "fairness_report",
) -> ReportFiles:
    """Write ``<stem>.md``, ``<stem>.html`` and the PNG plots into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    blocks, images = build_blocks(audit, out_dir, stem, gate, title)
    md_path, html_path = out_dir / f"{stem}.md", out_dir / f"{stem}.html"
    md_path.write_text(to_markdown(blocks), encoding="utf-8")
    html_path.write_text(to_html(blocks, title), encoding="utf-8")
    return ReportFiles(markdown=md_path, html=html_path, images=images)
