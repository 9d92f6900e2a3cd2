"""Vectorised builders of Arrow string columns for the data generator.

Formatting millions of ids and timestamps row by row in Python is far too slow,
so fixed-width text is written digit by digit into a NumPy byte matrix and
wrapped as an Arrow string array without copying.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SECONDS_PER_DAY = 86_400

# Timestamp styles: 0 = 'YYYY-MM-DD HH:MM:SS' (UTC), 1 = 'YYYY-MM-DDTHH:MM:SSZ',
# 2.. = local time with one of these offsets, e.g. '2026-01-05T14:00:00+02:00'
# meaning 12:00:00 UTC.
TS_OFFSETS: tuple[tuple[str, int], ...] = (
    ("+02:00", 120),
    ("+01:00", 60),
    ("-05:00", -300),
    ("+05:30", 330),
    ("-08:00", -480),
)
STYLE_PLAIN = 0
STYLE_ZULU = 1
STYLE_FIRST_OFFSET = 2
TS_SUFFIXES: tuple[str, ...] = ("", "Z") + tuple(text for text, _ in TS_OFFSETS)
_OFFSET_SECONDS = np.array(
    [0, 0] + [minutes * 60 for _, minutes in TS_OFFSETS], dtype=np.int64
)

_ZERO = ord("0")


def strings(values: Sequence[str | None]) -> pa.Array:
    """An Arrow string array of a small vocabulary."""
    return pa.array(list(values), type=pa.string())


def take(vocabulary: pa.Array | Sequence[str | None], codes: np.ndarray) -> pa.Array:
    """Map integer codes to the strings of a vocabulary."""
    if not isinstance(vocabulary, pa.Array):
        vocabulary = strings(vocabulary)
    return vocabulary.take(pa.array(np.asarray(codes, dtype=np.int64)))


def join(*parts: pa.Array | str) -> pa.Array:
    """Concatenate string arrays (or scalars) element-wise; null if any is null."""
    return pc.binary_join_element_wise(*parts, "")


def where(
    mask: np.ndarray, when_true: pa.Array | str | None, otherwise: pa.Array
) -> pa.Array:
    """Element-wise choice between two string arrays (or a scalar)."""
    if not mask.any():
        return otherwise
    if when_true is None:
        when_true = pa.scalar(None, type=pa.string())
    return pc.if_else(pa.array(mask, type=pa.bool_()), when_true, otherwise)


def _matrix_to_strings(matrix: np.ndarray) -> pa.Array:
    """Wrap an (n, width) uint8 matrix of ASCII as n strings of that width."""
    rows, width = matrix.shape
    if rows * width >= 2**31:
        raise ValueError("too many characters for one string array chunk")
    data = np.ascontiguousarray(matrix).reshape(-1)
    offsets = np.arange(0, (rows + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), rows, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def _put_digits(
    matrix: np.ndarray, start: int, values: np.ndarray, width: int
) -> None:
    """Write zero-padded decimal digits of values into matrix columns."""
    remaining = np.array(values, dtype=np.int64)
    for position in range(start + width - 1, start - 1, -1):
        matrix[:, position] = _ZERO + remaining % 10
        remaining //= 10


def fixed_width_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Ids like 'L0000042': prefix plus numbers zero-padded to width digits."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if len(numbers) and (numbers.min() < 0 or numbers.max() >= 10**width):
        raise ValueError(f"id numbers do not fit {width} digits")
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    matrix = np.empty((len(numbers), len(head) + width), dtype=np.uint8)
    matrix[:, : len(head)] = head
    _put_digits(matrix, len(head), numbers, width)
    return _matrix_to_strings(matrix)


def civil_dates(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day of days since 1970-01-01."""
    as_days = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    months = as_days.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (as_days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def _date_matrix(days: np.ndarray, width: int) -> np.ndarray:
    """A matrix whose first ten columns hold 'YYYY-MM-DD'."""
    year, month, day = civil_dates(days)
    matrix = np.empty((len(year), width), dtype=np.uint8)
    _put_digits(matrix, 0, year, 4)
    matrix[:, 4] = ord("-")
    _put_digits(matrix, 5, month, 2)
    matrix[:, 7] = ord("-")
    _put_digits(matrix, 8, day, 2)
    return matrix


def format_dates(days: np.ndarray) -> pa.Array:
    """'YYYY-MM-DD' for days since 1970-01-01."""
    return _matrix_to_strings(_date_matrix(days, 10))


def format_timestamps(epoch: np.ndarray, style: np.ndarray | None = None) -> pa.Array:
    """Format UTC epoch seconds as text in the given styles (see TS_SUFFIXES)."""
    epoch = np.asarray(epoch, dtype=np.int64)
    if style is None:
        style = np.zeros(len(epoch), dtype=np.int64)
    style = np.asarray(style, dtype=np.int64)
    local = epoch + _OFFSET_SECONDS[style]
    days, seconds = np.divmod(local, SECONDS_PER_DAY)
    matrix = _date_matrix(days, 19)
    matrix[:, 10] = np.where(style == STYLE_PLAIN, ord(" "), ord("T"))
    hours, rest = np.divmod(seconds, 3600)
    minutes, secs = np.divmod(rest, 60)
    _put_digits(matrix, 11, hours, 2)
    matrix[:, 13] = ord(":")
    _put_digits(matrix, 14, minutes, 2)
    matrix[:, 16] = ord(":")
    _put_digits(matrix, 17, secs, 2)
    text = _matrix_to_strings(matrix)
    if not (style != STYLE_PLAIN).any():
        return text
    return join(text, take(TS_SUFFIXES, style))


def format_cents(cents: np.ndarray) -> pa.Array:
    """Non-negative amounts in cents as text with two decimals ('1234.50')."""
    cents = np.asarray(cents, dtype=np.int64)
    units = pc.cast(pa.array(cents // 100), pa.string())
    fraction = np.empty((len(cents), 2), dtype=np.uint8)
    _put_digits(fraction, 0, cents % 100, 2)
    return join(units, ".", _matrix_to_strings(fraction))


def integers(values: np.ndarray) -> pa.Array:
    """Integers as decimal text."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def case_variants(text: pa.Array, codes: np.ndarray) -> pa.Array:
    """Re-case text: 0 as is, 1 upper, 2 lower, 3 title case, 4 swapped case."""
    result = text
    for code, function in (
        (1, pc.utf8_upper),
        (2, pc.utf8_lower),
        (3, pc.utf8_title),
        (4, pc.utf8_swapcase),
    ):
        mask = codes == code
        if mask.any():
            result = where(mask, function(text), result)
    return result


def is_blank(text: pa.Array) -> np.ndarray:
    """True where text is null, empty or whitespace only."""
    trimmed = pc.utf8_trim_whitespace(text)
    blank = pc.or_kleene(pc.is_null(text), pc.equal(trimmed, ""))
    return np.asarray(pc.fill_null(blank, True).to_numpy(zero_copy_only=False))


def replace_at(text: pa.Array, positions: np.ndarray, values: pa.Array) -> pa.Array:
    """Return text with the rows at positions replaced by values (in order)."""
    if len(positions) == 0:
        return text
    index = np.arange(len(text), dtype=np.int64)
    index[positions] = len(text) + np.arange(len(positions), dtype=np.int64)
    return pa.concat_arrays([text, values.cast(pa.string())]).take(pa.array(index))
