"""What counts as an accepted answer (chatconform.answers): whole words and whole numbers."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from chatconform.answers import accepted, mentions, tokens

WORDS = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8)
NUMBERS = st.integers(min_value=0, max_value=10**6).map(str)
PHRASES = st.lists(WORDS | NUMBERS, min_size=1, max_size=3).map(" ".join)
# What may stand between two words of an answer.
SEPARATORS = st.sampled_from([" ", ", ", "; ", ". ", ": ", "\n", " (", "! ", " - "])
# What may close a phrase in a sentence.
CLOSERS = st.sampled_from(["", ".", ",", "!", "?", ";", ":", ")", "'", '"'])


# --- examples ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "phrase", "found"),
    [
        ("5", "5", True),
        ("The answer is 5.", "5", True),
        ("5, 6 and 7", "5", True),
        ("(5)", "5", True),
        ("Five!", "five", True),
        ("15", "5", False),
        ("3.5", "5", False),
        ("5.0", "5", False),
        ("5,000", "5", False),
        ("5,000", "5000", True),
        ("It costs 5000.", "5,000", True),
        ("-5", "5", False),
        ("-5 degrees", "-5", True),
        ("pages 3-5", "5", True),
        ("the 5th", "5", False),
        ("the 5th", "5th", True),
        ("Paris, France", "paris", True),
        ("Parisian", "paris", False),
        ("No image was shared.", "red", False),
        ("It is reddish", "red", False),
        ("RED", "red", True),
        ("forty-seven", "forty-seven", True),
        ("forty seven", "forty-seven", True),
        ("147", "47", False),
        ("It is 17.3°C in Paris", "17.3", True),
        ("1 2 3 4 5", "1 2 3", True),
        ("1, 2, 3, 4", "1 2 3", True),
        ("1 3 2", "1 2 3", False),
        ("New York City", "new york", True),
        ("York, New", "new york", False),
        ("I don't know", "don't", True),
        ("I don’t know", "don't", True),
        ("答案是5", "5", True),
        ("颜色是红色", "红色", True),
        ("anything", "", False),
        ("anything", "...", False),
    ],
)
def test_accepted_examples(answer: str, phrase: str, found: bool) -> None:
    assert accepted(answer, [phrase]) is found


def test_any_of_several_accepted_phrases_is_enough() -> None:
    assert accepted("It is five.", ["5", "five"])
    assert not accepted("It is fifteen.", ["5", "five"])
    assert not accepted("anything", [])


def test_mentions_is_acceptance_of_one_term() -> None:
    assert mentions("A crimson circle.", "crimson")
    assert not mentions("A crimsonish circle.", "crimson")


def test_tokens_split_words_and_keep_numbers_whole() -> None:
    assert tokens("It's 3.5, not -5 or 5,000 (5th).") == [
        "it's",
        "3.5",
        "not",
        "-5",
        "or",
        "5000",
        "5th",
    ]


# --- properties -------------------------------------------------------------------------------


@given(
    before=st.lists(WORDS | NUMBERS, max_size=3),
    phrase=PHRASES,
    after=st.lists(WORDS | NUMBERS, max_size=3),
    left=SEPARATORS,
    right=SEPARATORS,
    closer=CLOSERS,
    shout=st.booleans(),
)
def test_a_phrase_standing_as_whole_tokens_in_a_sentence_is_accepted(
    before: list[str],
    phrase: str,
    after: list[str],
    left: str,
    right: str,
    closer: str,
    shout: bool,
) -> None:
    said = phrase.upper() if shout else phrase
    answer = " ".join(before) + (left if before else "") + said + closer
    answer += (right + " ".join(after)) if after else ""
    note(f"answer={answer!r} phrase={phrase!r}")
    assert accepted(answer, [phrase])


@given(
    number=st.integers(min_value=0, max_value=10**6),
    other=st.integers(min_value=0, max_value=10**6),
    form=st.sampled_from(
        ["{o}{n}", "{n}{o}", "{o}.{n}", "{n}.{o}", "{n},{o}", "{o},{n}", "-{n}", "{n}th", "{n}.0"]
    ),
    closer=CLOSERS,
)
def test_a_number_is_never_accepted_inside_another_number(
    number: int, other: int, form: str, closer: str
) -> None:
    written = form.format(n=number, o=other)
    answer = f"The answer is {written}{closer}"
    note(f"answer={answer!r} number={number}")
    assert not accepted(answer, [str(number)])


@given(number=NUMBERS, closer=CLOSERS, then=st.sampled_from(["", " Next.", "\n", " and 7"]))
def test_a_number_closing_a_sentence_or_list_item_is_accepted(
    number: str, closer: str, then: str
) -> None:
    answer = f"It is {number}{closer}{then}"
    note(f"answer={answer!r}")
    assert accepted(answer, [number])


@given(word=WORDS, prefix=st.text(alphabet=string.ascii_letters + string.digits, max_size=3))
def test_a_word_is_never_accepted_inside_a_longer_word(word: str, prefix: str) -> None:
    for longer in (f"{prefix}{word}x", f"x{word}{prefix}", f"{prefix}{word}_"):
        note(f"answer={longer!r} word={word!r}")
        assert not accepted(f"{longer}.", [word])


ASCII_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " .,-'!", max_size=40)


@given(answer=ASCII_TEXT, phrase=ASCII_TEXT)
def test_acceptance_ignores_case(answer: str, phrase: str) -> None:
    note(f"answer={answer!r} phrase={phrase!r}")
    expected = accepted(answer, [phrase])
    assert accepted(answer.upper(), [phrase.lower()]) is expected
    assert accepted(answer.swapcase(), [phrase.swapcase()]) is expected


@given(answer=ASCII_TEXT, word=st.text(alphabet=string.ascii_letters, min_size=1, max_size=6))
def test_an_accepted_word_is_always_a_substring_of_the_answer(answer: str, word: str) -> None:
    # Whole-token matching only ever narrows the old substring match.
    note(f"answer={answer!r} word={word!r}")
    if accepted(answer, [word]):
        assert word.lower() in answer.lower()
