"""The provider profile of a run's report: latency and throughput per dialect, as small
inline SVG strip charts (no library, no script) with their p50 and p95 as numbers, and
the ``--load`` probe's outcome when the run has one.

What is measured, and how, is ``chatconform.provider_profile``'s.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from chatconform.html_page import SERIES
from chatconform.provider_profile import (
    METRICS,
    Metric,
    percentile,
    samples,
    uses_first_byte,
)

_WIDTH = 340
_LABEL = 80  # the dialect names' column
_RIGHT = 12
_ROW = 24
_AXIS = 22  # the axis and its labels under the rows


def amount(value: float, unit: str) -> str:
    """``46 ms``, ``1.24 s``, ``83.5 tokens/s``."""
    if value == 0:
        return "0"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"


def duration(value: Any) -> str:
    """Seconds from results.json as ``46 ms`` or ``1.24 s``; ``?`` if not a number."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return amount(float(value), "s") if ok else "?"


def profile_html(results: dict[str, Any]) -> str:
    """A chart per charted measure, then every measure's numbers (n, p50, p95) in a table
    with a row per dialect, the longest inter-chunk gap, and the load probe's outcome; a
    measure nothing was measured for says so instead."""
    measured = samples(results)
    dialects = list(results["provider"].get("dialects", {})) or sorted(
        {d for per in measured.values() for d in per}
    )
    charts, shown = [], []
    for metric in METRICS:
        series = [(d, measured[metric.key][d]) for d in dialects if measured[metric.key].get(d)]
        if not series:
            charts.append(
                f'<p class="cc-muted">{escape(metric.title)}: not measured (no {metric.what}).</p>'
            )
            continue
        if metric.chart:
            charts.append(f"<figure>{_chart(metric, series, dialects)}</figure>")
        shown.append(metric)
    first_byte = (
        " Time to first token is the first byte's where the token's time was not recorded."
        if uses_first_byte(results)
        else ""
    )
    note = f'<p class="cc-muted"><small>Solid line: p50; dashed: p95.{first_byte}</small></p>'
    return (
        f'<div class="cc-charts">{"".join(charts)}</div>{note}{_numbers(measured, shown, dialects)}'
        f"{_longest_gaps(measured['gap'], dialects)}{load_html(results.get('load'))}"
    )


def _longest_gaps(gaps: dict[str, list[float]], dialects: list[str]) -> str:
    """The longest silence inside a stream, per dialect: where a client's read timeout bites."""
    longest = [f"{escape(d)} {amount(max(gaps[d]), 's')}" for d in dialects if gaps.get(d)]
    if not longest:
        return ""
    return f'<p class="cc-muted"><small>Longest inter-chunk gap: {", ".join(longest)}.</small></p>'


def load_html(load: Any) -> str:
    """The ``--load`` probe: N identical requests at once against one alone, as a table."""
    if not isinstance(load, dict):
        return ""
    if load.get("skipped"):
        return f'<p class="cc-muted">Load probe: not run ({escape(str(load["skipped"]))}).</p>'
    alone, together = load.get("alone") or {}, load.get("concurrent") or {}
    errors = load.get("errors") or {}
    rows = "".join(
        f"<tr><td>{escape(label)}</td><td class='cc-num'>{escape(_count(part.get('requests')))}</td>"
        f"<td class='cc-num'>{escape(_count(part.get('succeeded')))}</td>"
        + "".join(
            f"<td class='cc-num'>{escape(duration(part.get(q)))}</td>"
            for q in ("latency_p50_s", "latency_p95_s")
        )
        + "</tr>"
        for label, part in (("one request alone", alone), ("concurrently", together))
    )
    shown = ", ".join(f"{escape(str(k))}: {escape(_count(v))}" for k, v in sorted(errors.items()))
    ratio = load.get("slowdown_p50")
    slower = (
        f" At p50, a request under load took {ratio:.2f}× as long as alone."
        if isinstance(ratio, int | float) and not isinstance(ratio, bool)
        else ""
    )
    return (
        f"<h3>Load probe: {escape(_count(load.get('concurrency')))} identical requests at once</h3>"
        '<table class="cc-profile"><tr><th></th><th class="cc-num">requests</th>'
        '<th class="cc-num">answered 2xx</th><th class="cc-num">p50</th>'
        f'<th class="cc-num">p95</th></tr>{rows}</table>'
        f'<p class="cc-muted"><small>Information only: no verdict depends on it.{slower}'
        f"{f' Errors: {shown}.' if shown else ''}</small></p>"
    )


def _count(value: Any) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else "?"


def _numbers(
    measured: dict[str, dict[str, list[float]]], metrics: list[Metric], dialects: list[str]
) -> str:
    """The charts' numbers: per dialect, each measure's count, p50 and p95."""
    if not metrics:
        return ""
    head = "".join(f'<th colspan="3">{escape(m.title)}</th>' for m in metrics)
    sub = '<th class="cc-num">n</th><th class="cc-num">p50</th><th class="cc-num">p95</th>'
    rows = []
    for dialect in dialects:
        cells = []
        for metric in metrics:
            values = measured[metric.key].get(dialect, [])
            if not values:
                cells.append('<td class="cc-num">0</td><td></td><td></td>')
                continue
            cells.append(
                f'<td class="cc-num">{len(values)}</td>'
                + "".join(
                    f'<td class="cc-num">{amount(percentile(values, q), metric.unit)}</td>'
                    for q in (0.5, 0.95)
                )
            )
        rows.append(f"<tr><td>{escape(dialect)}</td>{''.join(cells)}</tr>")
    return (
        f'<table class="cc-profile"><tr><th rowspan="2">dialect</th>{head}</tr>'
        f"<tr>{sub * len(metrics)}</tr>{''.join(rows)}</table>"
    )


def _chart(metric: Metric, series: list[tuple[str, list[float]]], dialects: list[str]) -> str:
    """A strip chart: per dialect a row of dots, one per exchange, its p50 and p95 marked."""
    top = _nice(max(max(values) for _, values in series))
    span = _WIDTH - _LABEL - _RIGHT
    height = _ROW * len(series) + _AXIS

    def x(value: float) -> float:
        return round(_LABEL + span * min(value / top, 1.0), 1)

    described = "; ".join(
        f"{dialect}: {len(values)} exchanges, p50 {amount(percentile(values, 0.5), metric.unit)}, "
        f"p95 {amount(percentile(values, 0.95), metric.unit)}"
        for dialect, values in series
    )
    label = f"{metric.title} ({metric.what}): {described}"
    parts = [
        f'<svg class="cc-chart" role="img" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>",
    ]
    for row, (dialect, values) in enumerate(series):
        middle = row * _ROW + _ROW / 2
        colour = dialects.index(dialect) % len(SERIES) if dialect in dialects else 0
        parts.append(f'<text x="0" y="{middle + 4}">{escape(dialect[:14])}</text>')
        # Dots alternate between three heights, so equal values stay countable.
        parts.extend(
            f'<circle class="cc-series-{colour}" cx="{x(v)}" cy="{middle - 4 + 4 * (i % 3)}" r="2.5"/>'
            for i, v in enumerate(values)
        )
        for q, cls in ((0.5, "cc-p50"), (0.95, "cc-p95")):
            at = x(percentile(values, q))
            parts.append(
                f'<line class="{cls}" x1="{at}" x2="{at}" y1="{middle - 9}" y2="{middle + 9}"/>'
            )
    axis = _ROW * len(series) + 2
    parts.append(
        f'<line class="cc-axis" x1="{_LABEL}" x2="{_LABEL + span}" y1="{axis}" y2="{axis}"/>'
    )
    for fraction in (0, 0.5, 1):
        at = _LABEL + span * fraction
        anchor = ("start", "middle", "end")[int(fraction * 2)]
        parts.append(
            f'<line class="cc-axis" x1="{at}" x2="{at}" y1="{axis}" y2="{axis + 3}"/>'
            f'<text x="{at}" y="{axis + 15}" text-anchor="{anchor}">'
            f"{_tick(top * fraction, metric.unit)}</text>"
        )
    parts.append("</svg>")
    unit = "" if metric.unit == "s" else f" ({metric.unit})"
    return f"<figcaption>{escape(metric.title)}{unit}</figcaption>" + "".join(parts)


def _tick(value: float, unit: str) -> str:
    """An axis label: times with their unit, other measures as bare numbers (the
    caption names the unit)."""
    return amount(value, unit) if unit == "s" else f"{value:g}"


def _nice(value: float) -> float:
    """The axis' end: the first of 1, 2, 2.5, 5 times a power of ten at or above ``value``."""
    if not (math.isfinite(value) and value > 0):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)
