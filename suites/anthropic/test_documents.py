"""PDF documents in the Messages API: the model reads a document sent as base64 or by url."""

from __future__ import annotations

import pytest

from chatconform.case import CaseRecord, case
from chatconform.dialects.anthropic import media_cases
from chatconform.dialects.anthropic.checks import semantics
from chatconform.dialects.anthropic.media_cases import PDF_GUIDE, ask, body
from chatconform.dialects.anthropic.probe import AnthropicProbe
from chatconform.dialects.anthropic.requests import document_block, document_url_block
from chatconform.documents import document
from chatconform.published import fixture_url

CAPABILITY = "documents"
PDF = "code-word.pdf"


def _ask(anthropic: AnthropicProbe, case: CaseRecord, block: dict, *, stream: bool = False) -> None:
    doc = document(PDF)
    media_cases.show(case, doc.question, [])
    messages = media_cases.question_turn(doc.question, [block])
    request = body(anthropic, CAPABILITY, messages, stream=stream)
    ask(anthropic, case, CAPABILITY, request, [(doc.word,)], seen=semantics.document_delivered)


@case(
    "anthropic/documents/pdf-base64",
    title="A PDF as a base64 document block is read",
    requirement="A document block with a base64 application/pdf source is model input: the model answers from its text.",
    source=f"{PDF_GUIDE}#option-2-base64-encoded-pdf-document",
)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_pdf_base64(anthropic: AnthropicProbe, case: CaseRecord, stream: bool) -> None:
    _ask(anthropic, case, document_block(document(PDF)), stream=stream)


@case(
    "anthropic/documents/pdf-url",
    title="A PDF by url source is read",
    requirement="A document block with a url source is fetched by the provider and read by the model.",
    source=f"{PDF_GUIDE}#option-1-url-based-pdf-document",
)
def test_pdf_url(anthropic: AnthropicProbe, case: CaseRecord) -> None:
    _ask(anthropic, case, document_url_block(fixture_url(anthropic, document(PDF))))
