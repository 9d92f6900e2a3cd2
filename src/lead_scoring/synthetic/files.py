"""Files of the synthetic data generator.

Streams each raw table to `<table>.parquet` or `<table>.csv` (written as a
hidden .tmp file, then renamed), collects the expected rejections and nulls
into `_expected_rejections.csv` and `_expected_nulls.csv`, and clears the
output folder of an earlier run's tables and expectations.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from lead_scoring.synthetic import textcols as tc
from lead_scoring.synthetic.common import (
    FORMATS,
    MANIFEST_FILE,
    NULLS_FILE,
    REJECTIONS_FILE,
    _REASON_CODE,
    _Piece,
)
from lead_scoring.contract import RAW_TABLES, REJECTION_REASONS
from lead_scoring.errors import GenerateError


# --------------------------------------------------------------------------- files


class _TableSink:
    """Streams one table to `<table>.<format>` (written as .tmp, then renamed)."""

    def __init__(self, out_dir: Path, table: str, fmt: str) -> None:
        self.path = out_dir / f"{table}.{fmt}"
        self.temp = out_dir / f".{table}.{fmt}.tmp"
        self.schema = pa.schema([(name, pa.string()) for name in RAW_TABLES[table]])
        self.rows = 0
        if fmt == "parquet":
            self.writer = pq.ParquetWriter(
                self.temp, self.schema, compression="zstd", compression_level=1
            )
        else:
            self.writer = pa_csv.CSVWriter(self.temp, self.schema)

    def write(self, rows: pa.Table) -> None:
        """Append rows."""
        self.writer.write_table(rows.cast(self.schema))
        self.rows += rows.num_rows

    def close(self) -> None:
        """Finish the file and move it into place."""
        self.writer.close()
        os.replace(self.temp, self.path)


def _csv_header(columns: tuple[str, ...]) -> bytes:
    """The header line pyarrow writes for these columns."""
    buffer = io.BytesIO()
    empty = pa.table({name: pa.array([], pa.string()) for name in columns})
    pa_csv.write_csv(empty, buffer)
    return buffer.getvalue()


_REJECTION_COLUMNS = ("table_name", "raw_key", "rejection_reason")
_NULL_COLUMNS = ("table_name", "raw_key", "column_name")
_REASON_TEXT = tc.strings([""] + list(REJECTION_REASONS))


class _Expectations:
    """Collects expected rejections per table (streamed) and expected nulls."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.counts = {
            table: np.zeros(len(_REASON_TEXT), np.int64) for table in RAW_TABLES
        }
        options = pa_csv.WriteOptions(include_header=False)
        schema = pa.schema([(name, pa.string()) for name in _REJECTION_COLUMNS])
        self.parts = {
            table: out_dir / f".{table}.rejections.tmp" for table in RAW_TABLES
        }
        self.writers = {
            table: pa_csv.CSVWriter(path, schema, write_options=options)
            for table, path in self.parts.items()
        }
        self.nulls_path = out_dir / NULLS_FILE
        self.null_schema = pa.schema([(name, pa.string()) for name in _NULL_COLUMNS])
        self.null_writer = pa_csv.CSVWriter(self.nulls_path, self.null_schema)
        self.null_counts: dict[str, dict[str, int]] = {}

    def add(self, piece: _Piece) -> None:
        """Record the rejected rows of a piece."""
        self.counts[piece.table] += np.bincount(
            piece.reasons, minlength=len(_REASON_TEXT)
        )
        rejected = np.flatnonzero(piece.reasons)
        if not len(rejected):
            return
        lines = pa.table(
            {
                "table_name": tc.strings([piece.table] * len(rejected)),
                "raw_key": piece.raw_keys.take(pa.array(rejected)),
                "rejection_reason": _REASON_TEXT.take(
                    pa.array(piece.reasons[rejected])
                ),
            }
        )
        self.writers[piece.table].write_table(lines)

    def add_nulls(self, lines: pa.Table) -> None:
        """Record expected nulls."""
        self.null_writer.write_table(lines.cast(self.null_schema))
        for table, column in zip(
            lines["table_name"].to_pylist(), lines["column_name"].to_pylist()
        ):
            per_table = self.null_counts.setdefault(table, {})
            per_table[column] = per_table.get(column, 0) + 1

    def close(self) -> None:
        """Merge the per-table parts into `_expected_rejections.csv`."""
        self.null_writer.close()
        for writer in self.writers.values():
            writer.close()
        with open(self.out_dir / REJECTIONS_FILE, "wb") as merged:
            merged.write(_csv_header(_REJECTION_COLUMNS))
            for path in self.parts.values():
                with open(path, "rb") as part:
                    while block := part.read(1 << 24):
                        merged.write(block)
                path.unlink()

    def summary(self) -> dict[str, dict[str, int]]:
        """Expected rejections per table and reason (non-zero counts only)."""
        return {
            table: {
                reason: int(counts[code])
                for reason, code in _REASON_CODE.items()
                if counts[code]
            }
            for table, counts in self.counts.items()
        }


def _prepare_out_dir(out_dir: Path) -> None:
    """Create out_dir and remove raw tables and expectations of earlier runs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for table in RAW_TABLES:
        if (out_dir / table).is_dir():
            raise GenerateError(
                f"{out_dir / table} is a folder of an earlier data set",
                hint="remove it or generate into an empty folder",
            )
        for suffix in FORMATS:
            (out_dir / f"{table}.{suffix}").unlink(missing_ok=True)
    for name in (REJECTIONS_FILE, NULLS_FILE, MANIFEST_FILE):
        (out_dir / name).unlink(missing_ok=True)
