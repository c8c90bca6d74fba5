"""What crosses between the user's Python values and the native client:
the argument types of the API (partitions, filters, times, frames), frames
turned into Arrow streams, and Arrow tables turned into the output asked for."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, Union

from batchmeta.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

PartitionValue = Union[str, int, _dt.date]
"""One partition value: text, an integer or a date."""
Partition = Union[PartitionValue, tuple[PartitionValue, ...], Mapping[str, PartitionValue]]
"""A partition: a scalar (one key), a tuple (one value per key) or a dict."""
Filter = Union[tuple[str, str], tuple[str, str, Any]]
"""A row filter: ``("price", ">", 10)``, ``("region", "in", ["us", "eu"])``, ``("x", "is null")``."""
Time = Union[_dt.datetime, _dt.date, str]
"""A time: a ``datetime`` (naive means UTC), a ``date`` (midnight UTC), or a
string as the CLI takes it: ``"2016-11-01"``, ``"2016-11-01T00:00:00Z"``, or
an age such as ``"1h"`` or ``"2d"`` (before now; for ``expires_at``, after)."""


class ArrowStreamExportable(Protocol):
    """Anything with the Arrow PyCapsule stream interface (pyarrow, polars,
    pandas >= 2.2, duckdb, ...)."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


Frame = Union["pd.DataFrame", "pl.DataFrame", ArrowStreamExportable, Any]
"""What ``store_dataframe`` accepts."""


def _arrow(data: object) -> Any:
    """The frame as an object exporting an Arrow stream, keeping pandas'
    index and dtypes in the schema metadata. No copy for pyarrow and polars."""
    import pyarrow as pa

    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return pa.Table.from_pandas(data)
    if module == "polars" and hasattr(data, "to_arrow"):
        return data.to_arrow()
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if hasattr(data, "__arrow_c_stream__"):
        return data
    raise InvalidInputError(
        f"cannot store a {type(data).__name__}: pass a pandas or polars DataFrame, a "
        "pyarrow Table, or any object with __arrow_c_stream__",
        code="invalid_data",
    )


def _spark_frame(df: object) -> bool:
    """A pyspark DataFrame: its executors write the files (see ``batchmeta._spark``)."""
    return type(df).__module__.startswith("pyspark.sql") and type(df).__name__ == "DataFrame"


def _list(partitions: Sequence[Partition] | Partition | None) -> list[Any] | None:
    """``partitions`` as a list; a lone string or dict is accepted as one partition."""
    if partitions is None:
        return None
    if isinstance(partitions, list):
        return partitions
    if isinstance(partitions, (str, int, _dt.date, Mapping)):
        return [partitions]
    raise InvalidInputError(
        "partitions is a list of partitions, e.g. [\"2016-10-31\"] or [{\"date\": \"2016-10-31\"}]",
        code="invalid_partition",
    )


def _frame(table: Any, output: str) -> Any:
    if output == "pandas":
        return table.to_pandas()
    if output == "polars":
        try:
            import polars as pl
        except ModuleNotFoundError as e:
            raise ModuleNotFoundError(
                "output=\"polars\" needs polars, which is not installed; "
                "hint: pip install polars (or use output=\"pandas\" or \"arrow\")",
                name="polars",
            ) from e

        return pl.from_arrow(table)
    if output == "arrow":
        return table
    raise InvalidInputError(
        f"unknown output {output!r}: use \"pandas\", \"polars\" or \"arrow\"", code="invalid_output"
    )
