"""Writes the seeds of the `parquet` fuzz target (fuzz/seeds/parquet) with pyarrow, a real writer:
gzip pages in row groups of two rows, zstd data pages v2 without a dictionary, a decimal column
of plain pages. The fourth seed is a part of tests/fixtures/inputs/pyarrow (Snappy).

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pyarrow==26.0.1
    /tmp/venv/bin/python fuzz/write_parquet_seeds.py
"""
import decimal
import os

import pyarrow as pa
import pyarrow.parquet as pq

SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds", "parquet")
os.makedirs(SEEDS, exist_ok=True)
people = pa.table({
    "email": ["a@x.io", None, "b@x.io", "c"],
    "age": pa.array([41, 7, None, 3], pa.int32()),
    "note": ["x", "y", "z", "w"],
})
pq.write_table(people, os.path.join(SEEDS, "small-gzip.parquet"), compression="gzip", row_group_size=2)
pq.write_table(people, os.path.join(SEEDS, "small-zstd-v2.parquet"), compression="zstd",
               data_page_version="2.0", use_dictionary=False)
money = pa.table({
    "email": ["a@x.io", "b@x.io"],
    "age": pa.array([decimal.Decimal("41.5"), decimal.Decimal("-2.0")], pa.decimal128(5, 1)),
})
pq.write_table(money, os.path.join(SEEDS, "decimal-plain.parquet"), compression="none")
