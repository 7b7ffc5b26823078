"""The page every HTML output shares (report, comparison, trend): one stylesheet, no script.

Pages are self-contained: inline CSS, inline SVG, images as data URIs, nothing fetched.
Every text colour here keeps a contrast ratio of at least 4.5:1 (WCAG AA) on every
background here, chart marks at least 3:1 on white (tests/test_report.py computes them),
and a print stylesheet hides controls. Callers escape what they put in; nothing is
escaped here but the title.
"""

from __future__ import annotations

from html import escape
from string import Template

# Verdict and status colours: a light background under the page's dark text.
VERDICT_BACKGROUNDS = {
    "pass": "#d3f2ca",
    "non_strict": "#fbeab0",
    "fail": "#f8cccc",
    "error": "#f0c4ec",
    "inconclusive": "#dedef6",
    "unsupported": "#e3e3e3",
    "skipped": "#f1f1f1",
    "not_measured": "#f1f1f1",
}
TEXT = "#1a1a1a"
MUTED = "#555555"  # 7.5:1 on white, 5.1:1 on the fail background
LINK = "#0b4fa8"
# Chart series, one per dialect in order: dark enough for text, so also for marks.
SERIES = ("#0b4fa8", "#8a3c00", "#2e6b1f", "#6b2c91")

STYLE = (
    Template("""
:root{color-scheme:light}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:$text;background:#ffffff;margin:0 auto;max-width:1200px;padding:12px 20px}
a,a:visited{color:$link}
h1{font-size:1.5em;margin:.4em 0}h2{font-size:1.25em;margin:1.2em 0 .4em;border-bottom:1px solid #ccc}
h3{font-size:1.05em;margin:.8em 0 .3em}
table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #bbb;padding:3px 8px;text-align:left;vertical-align:top;color:$text;overflow-wrap:break-word}
th{background:#eeeeee}
td.cc-num,th.cc-num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.9em}
code{overflow-wrap:anywhere}
pre{white-space:pre-wrap;overflow-wrap:anywhere;word-break:normal;background:#f6f6f6;color:$text;padding:6px;border:1px solid #ddd;margin:4px 0;max-height:30em;overflow:auto}
.cc-muted,small{color:$muted}
.cc-must{color:#a00000;font-weight:bold}.cc-should{color:#7a4a00;font-weight:bold}.cc-info{color:$muted}
.cc-headline{font-size:1.25em;font-weight:bold;padding:6px 12px;border:2px solid #777;margin:6px 0}
.cc-legend{margin:4px 0}.cc-legend dt{font-weight:bold;display:inline}.cc-legend dd{display:inline;margin:0 12px 0 4px}
.cc-controls label{margin-right:10px;white-space:nowrap}
.cc-v{display:inline-block;min-width:5.6em;padding:0 4px;border:1px solid #999;border-radius:3px;font-size:.85em;font-weight:600;text-align:center;color:$text}
.cc-nav{margin:4px 0;color:$muted}.cc-nav a{margin-right:10px}
.cc-chart{display:block;margin:2px 0}
.cc-chart text{fill:$text;font:12px system-ui,sans-serif}
.cc-chart .cc-axis{stroke:$muted;stroke-width:1}
.cc-chart .cc-p50{stroke:$text;stroke-width:2}
.cc-chart .cc-p95{stroke:$text;stroke-width:1.5;stroke-dasharray:3 2}
""").substitute(text=TEXT, muted=MUTED, link=LINK)
    + "".join(f".cc-{name}{{background:{color}}}\n" for name, color in VERDICT_BACKGROUNDS.items())
    + "".join(
        f".cc-chart .cc-series-{i}{{fill:{color};stroke:{color};fill-opacity:.3}}\n"
        for i, color in enumerate(SERIES)
    )
    + Template("""
@media print{
  @page{size:A4;margin:12mm}
  .cc-controls,.cc-noprint{display:none !important}
  body{max-width:none;padding:0;font-size:10px;line-height:1.3}
  pre{max-height:none;overflow:visible}
  a,a:visited{color:$text;text-decoration:none}
  .cc-v,.cc-headline,td,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  h2{break-after:avoid}tr{break-inside:avoid}
}
""").substitute(text=TEXT)
)


def css_class(value: str) -> str:
    """A verdict, status or severity as a class name: ``cc-non_strict``."""
    return "cc-" + "".join(ch for ch in value if ch.isalnum() or ch == "_")


def page(title: str, body: str, *, extra_style: str = "") -> str:
    """A whole HTML document: ``title`` is escaped here, ``body`` must already be."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # No script, no fetch: provider text that slipped past escaping still cannot run.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">"
        # An empty icon: no request for /favicon.ico, which the CSP would refuse.
        '<link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title><style>{STYLE}{extra_style}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def case_anchor(case_id: str) -> str:
    """The id of a case's section in a run's report: links from the deviations table, the
    comparison and the trend page land on it. Stable for a stable case id."""
    return "case-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in case_id)


def rule_anchor(rule_id: str) -> str:
    """The id of a rule's row in a run's deviations table."""
    return "rule-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in rule_id)
