"""What the page tests share: where Chromium is, how it is launched, and the page audits.

The audits gather facts in the page (computed styles, boxes) and judge them here, in
Python, where the arithmetic is unit-tested against miniature pages.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

# The system's Chromium, never Playwright's own download (the tests run without network).
CHROMIUM_PATH = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The first screen of a laptop: what a reader sees before scrolling.
VIEWPORT = {"width": 1280, "height": 800}
REQUIRE_BROWSER_ENV = "CHATCONFORM_REQUIRE_BROWSER"
NO_BROWSER = (
    "Chromium not found at /usr/bin/chromium or on PATH; install it with "
    "`apt-get install chromium` (Debian/Ubuntu) to run the browser tests"
)

# WCAG 2.x, success criterion 1.4.3: 4.5:1, or 3:1 for large text (at least 18pt, or
# 14pt bold; 1pt = 4/3 px).
NORMAL_TEXT_RATIO = 4.5
LARGE_TEXT_RATIO = 3.0
LARGE_TEXT_PX = 24.0
LARGE_BOLD_TEXT_PX = 18.66
BOLD_WEIGHT = 700


def find_chromium() -> str | None:
    """The system Chromium's executable, or None."""
    if CHROMIUM_PATH.is_file() and os.access(CHROMIUM_PATH, os.X_OK):
        return str(CHROMIUM_PATH)
    return shutil.which("chromium")


def browser_required() -> bool:
    """Whether a missing browser fails the run (CI) instead of skipping its tests."""
    return os.environ.get(REQUIRE_BROWSER_ENV, "") not in ("", "0")


@dataclass
class PageLog:
    """What a page said while it was open: console errors, uncaught errors, dialogs."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @classmethod
    def attach(cls, page: Any) -> PageLog:
        log = cls()

        def on_console(message: Any) -> None:
            if message.type == "error":
                log.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

        def on_dialog(dialog: Any) -> None:
            log.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("console", on_console)
        page.on("pageerror", lambda error: log.page_errors.append(str(error)))
        page.on("dialog", on_dialog)
        return log

    def problems(self) -> list[str]:
        return (
            [f"console error: {m}" for m in self.console_errors]
            + [f"page error: {m}" for m in self.page_errors]
            + [f"dialog: {m}" for m in self.dialogs]
        )


# --- print ---------------------------------------------------------------------------

# Every page object of a PDF; `/Type /Pages` (the page tree) is not one.
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def pdf_page_count(pdf: bytes) -> int:
    """The pages of a PDF as Chromium writes it (page objects uncompressed)."""
    return len(_PDF_PAGE.findall(pdf))


# --- contrast ------------------------------------------------------------------------

# For each element with its own text: its colour, the background colours of it and its
# ancestors (innermost first), its font; for SVG text, the fill of the shape under it.
CONTRAST_FACTS_JS = """
() => {
  const skip = new Set(["script", "style", "noscript", "template", "title"]);
  const shapes = new Set(["rect", "circle", "ellipse", "path", "polygon", "polyline"]);
  const describe = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      let part = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(part + "#" + e.id); break; }
      const cls = typeof e.className === "string" ? e.className.trim() : "";
      if (cls) part += "." + cls.split(/\\s+/).join(".");
      parts.unshift(part);
    }
    return parts.join(" > ");
  };
  const shapeUnder = (el) => {
    // SVG text is painted over sibling shapes, not over its ancestors' backgrounds.
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height) return null;
    el.scrollIntoView({block: "center", inline: "center"});
    const b = el.getBoundingClientRect();
    const stack = document.elementsFromPoint(b.left + b.width / 2, b.top + b.height / 2);
    for (const under of stack) {
      if (under === el || el.contains(under) || under.contains(el)) continue;
      if (!(under instanceof SVGElement) || !shapes.has(under.tagName.toLowerCase())) continue;
      const s = getComputedStyle(under);
      if (s.fill === "none" || s.fill.startsWith("url(")) continue;
      return {fill: s.fill, opacity: parseFloat(s.fillOpacity) * parseFloat(s.opacity)};
    }
    return null;
  };
  const facts = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (skip.has(el.tagName.toLowerCase())) continue;
    const text = Array.from(el.childNodes)
      .filter((n) => n.nodeType === Node.TEXT_NODE)
      .map((n) => n.data)
      .join(" ")
      .replace(/\\s+/g, " ")
      .trim();
    if (!text) continue;
    const style = getComputedStyle(el);
    const svg = el instanceof SVGElement;
    const backgrounds = [];
    for (let a = el; a; a = a.parentElement) backgrounds.push(getComputedStyle(a).backgroundColor);
    facts.push({
      selector: describe(el),
      text: text.slice(0, 60),
      color: svg ? style.fill : style.color,
      backgrounds: backgrounds,
      shape: svg ? shapeUnder(el) : null,
      fontSize: parseFloat(style.fontSize),
      fontWeight: parseInt(style.fontWeight, 10) || 400,
    });
  }
  window.scrollTo(0, 0);
  return facts;
}
"""

_RGB = re.compile(r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)")
_SRGB = re.compile(r"color\(srgb\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)(?:\s*/\s*([\d.]+%?))?\s*\)")

Rgba = tuple[float, float, float, float]
WHITE: Rgba = (255.0, 255.0, 255.0, 1.0)


def parse_color(value: str) -> Rgba | None:
    """A computed CSS colour as (r, g, b) in 0-255 and alpha in 0-1, or None if not one."""
    value = value.strip()
    if value == "transparent":
        return (0.0, 0.0, 0.0, 0.0)
    for pattern, scale in ((_RGB, 1.0), (_SRGB, 255.0)):
        match = pattern.fullmatch(value)
        if match:
            r, g, b = (float(x) * scale for x in match.groups()[:3])
            alpha = match.group(4)
            if alpha is None:
                a = 1.0
            elif alpha.endswith("%"):
                a = float(alpha[:-1]) / 100
            else:
                a = float(alpha)
            return (r, g, b, a)
    return None


def over(top: Rgba, below: Rgba) -> Rgba:
    """``top`` composited over an opaque ``below``."""
    a = top[3]
    r, g, b = (top[i] * a + below[i] * (1 - a) for i in range(3))
    return (r, g, b, 1.0)


def relative_luminance(color: Rgba) -> float:
    """WCAG 2.x relative luminance of an opaque sRGB colour."""

    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in color[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: Rgba, background: Rgba) -> float:
    """WCAG 2.x contrast ratio of text over an opaque background (from 1 to 21)."""
    lighter, darker = sorted(
        (relative_luminance(over(foreground, background)), relative_luminance(background)),
        reverse=True,
    )
    return (lighter + 0.05) / (darker + 0.05)


def effective_background(backgrounds: list[str], shape: dict[str, Any] | None) -> Rgba:
    """What the text is painted over: the ancestors' background colours composited from
    the outermost opaque one (white if none), then an SVG shape under the text."""
    color = WHITE
    for value in reversed(backgrounds):
        layer = parse_color(value)
        if layer is not None and layer[3] > 0:
            color = over(layer, color)
    if shape:
        fill = parse_color(shape["fill"])
        if fill is not None:
            color = over((*fill[:3], fill[3] * shape["opacity"]), color)
    return color


def is_large_text(font_size_px: float, font_weight: int) -> bool:
    return font_size_px >= LARGE_TEXT_PX or (
        font_size_px >= LARGE_BOLD_TEXT_PX and font_weight >= BOLD_WEIGHT
    )


def contrast_offenders(page: Any) -> list[str]:
    """Every text on the page whose colour is below the WCAG AA ratio over its
    background, one line each: selector, text, colours, ratio and the ratio required."""
    offenders = []
    for fact in page.evaluate(CONTRAST_FACTS_JS):
        foreground = parse_color(fact["color"])
        background = effective_background(fact["backgrounds"], fact["shape"])
        where = f"{fact['selector']} {fact['text']!r}"
        if foreground is None:
            offenders.append(f"{where}: colour {fact['color']!r} is not an sRGB colour")
            continue
        ratio = contrast_ratio(foreground, background)
        large = is_large_text(fact["fontSize"], fact["fontWeight"])
        required = LARGE_TEXT_RATIO if large else NORMAL_TEXT_RATIO
        if ratio < required:
            offenders.append(
                f"{where}: {_hex(foreground)} on {_hex(background)} is {ratio:.2f}:1, "
                f"needs {required}:1 ({fact['fontSize']:g}px, weight {fact['fontWeight']})"
            )
    return offenders


def _hex(color: Rgba) -> str:
    rgb = "#" + "".join(f"{round(c):02x}" for c in color[:3])
    return rgb if color[3] >= 1 else f"{rgb} at alpha {color[3]:.2f}"


# --- links ---------------------------------------------------------------------------


def dangling_anchors(page: Any) -> list[str]:
    """Every in-page link (``href="#..."``) whose target id is not on the page."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('a[href^="#"]'))
             .map((a) => decodeURIComponent(a.getAttribute("href").slice(1)))
             .filter((id) => id && !document.getElementById(id))"""
    )


def local_link_problems(page: Any, open_file: Callable[[Path], Any]) -> tuple[int, list[str]]:
    """Every link of ``page`` to a local file, checked: the file exists and holds the
    element its fragment names. ``open_file(path)`` opens another page to look in.
    Returns how many links were checked, and one line per broken one."""
    hrefs = page.eval_on_selector_all("a[href]", "(links) => links.map((a) => a.href)")
    wanted: dict[Path, set[str]] = {}
    problems = []
    checked = 0
    for href in hrefs:
        url = urlsplit(href)
        if url.scheme != "file":
            continue
        checked += 1
        target = Path(unquote(url.path))
        if not target.is_file():
            problems.append(f"{href}: no such file")
            continue
        fragments = wanted.setdefault(target, set())
        if url.fragment:
            fragments.add(unquote(url.fragment))
    here = Path(unquote(urlsplit(page.url).path))
    for target, fragments in wanted.items():
        if not fragments:
            continue
        holder = page if target == here else open_file(target)
        missing = holder.evaluate(
            "(ids) => ids.filter((id) => !document.getElementById(id))", sorted(fragments)
        )
        problems.extend(f"{target.as_uri()}#{m}: no element with that id" for m in missing)
    return checked, problems


def open_all_details(page: Any) -> None:
    """Opens every collapsed section, as a reader clicking each summary would."""
    page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")


# --- script --------------------------------------------------------------------------

# What unescaped provider markup would leave in the DOM.
INJECTED_SELECTOR = (
    "body script, iframe, object, embed, [onerror], [onload], [onclick], "
    'a[href^="javascript:" i], img:not([src^="data:image/"])'
)


def script_ran(page: Any) -> bool:
    """Whether any payload set ``window.__pwned``."""
    return page.evaluate("() => window.__pwned !== undefined")


def injected_elements(page: Any) -> list[str]:
    """The outer HTML (clipped) of every element that provider markup would have made."""
    return page.evaluate(
        "(selector) => Array.from(document.querySelectorAll(selector))"
        ".map((el) => el.outerHTML.slice(0, 120))",
        INJECTED_SELECTOR,
    )
