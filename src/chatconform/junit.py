"""junit.xml written from verdicts, so that CI shows what the suite judged.

pytest's own JUnit report knows only pytest outcomes, where an inconclusive
or unsupported case would read as passed. Here ``fail`` is a ``<failure>``,
``error`` an ``<error>``, ``inconclusive``/``unsupported``/``skipped`` are
``<skipped>`` with the verdict leading the message, and ``non_strict``/``pass``
pass; every testcase carries its verdict and case id as properties.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

from chatconform.results import findings_text, verdict_reason
from chatconform.verdict import Verdict

JUNIT_FILE = "junit.xml"
_SKIPPED = (Verdict.INCONCLUSIVE, Verdict.UNSUPPORTED, Verdict.SKIPPED)
# XML 1.0 has no way to carry most control characters or lone surrogates, not even
# as references, and a provider's text can hold any of them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _property(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, "property", name=name, value=_xml_safe(value))


def _testcase(case: dict[str, Any]) -> ET.Element:
    verdict = case["verdict"]
    reason = case["reason"]
    element = ET.Element(
        "testcase",
        classname=f"{case['dialect']}.{case['capability']}",
        name=_xml_safe(case["id"]),
        time=f"{case['duration_s']:.3f}",
    )
    properties = ET.SubElement(element, "properties")
    _property(properties, "chatconform.verdict", verdict)
    _property(properties, "chatconform.case_id", case["id"])
    deviations = [f for f in case["findings"] if f["severity"] in ("must", "should")]
    if deviations:
        rules = sorted({f["rule"] for f in deviations})
        _property(properties, "chatconform.rules", ",".join(rules))
    if verdict == Verdict.FAIL:
        must = [f for f in case["findings"] if f["severity"] == "must"]
        # A case stopped after a structural finding keeps its reason; without a must
        # finding (never expected) the reason alone still says why it failed.
        message = "; ".join(f"{f['rule']}: {f['title']}" for f in must) or reason
        failure = ET.SubElement(element, "failure", message=_xml_safe(message), type="fail")
        failure.text = _xml_safe(findings_text(case))
    elif verdict == Verdict.ERROR:
        error = ET.SubElement(
            element, "error", message=_xml_safe(reason or "harness error"), type="error"
        )
        error.text = _xml_safe(findings_text(case))
    elif verdict in _SKIPPED:
        message = verdict_reason(verdict, reason)
        ET.SubElement(element, "skipped", message=_xml_safe(message), type=verdict)
    return element


def junit_xml(results: dict[str, Any]) -> bytes:
    """The JUnit XML document of a results.json document."""
    cases = results["cases"]
    counts = Counter(c["verdict"] for c in cases)
    totals = {
        "tests": str(len(cases)),
        "failures": str(counts[Verdict.FAIL]),
        "errors": str(counts[Verdict.ERROR]),
        "skipped": str(sum(counts[v] for v in _SKIPPED)),
        "time": f"{results['duration_s']:.3f}",
    }
    root = ET.Element("testsuites", name="chatconform", **totals)
    suite = ET.SubElement(
        root,
        "testsuite",
        name=_xml_safe(f"chatconform {results['provider']['name']}"),
        timestamp=results["started_at"],
        **totals,
    )
    properties = ET.SubElement(suite, "properties")
    _property(properties, "chatconform.provider", results["provider"]["name"])
    for name, spoken in results["provider"]["dialects"].items():
        _property(properties, f"chatconform.{name}.base_url", spoken["base_url"])
    # A run cut short (Ctrl-C) says so, since its counts cover only the cases that ran.
    _property(properties, "chatconform.complete", str(results["complete"]).lower())
    suite.extend(_testcase(case) for case in cases)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_junit(directory: Path, results: dict[str, Any]) -> Path:
    """Write ``junit.xml`` for ``results`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / JUNIT_FILE
    path.write_bytes(junit_xml(results))
    return path
