"""store_dataframe for pyspark DataFrames: Spark's executors write the data.

The driver only stages batches, starts one Spark write per partition into
that batch's prefix, lists the file names Spark wrote and registers them
(batchmeta reads each file's Parquet footer), then publishes every batch in
one commit. No row passes through the driver.
"""

from __future__ import annotations

import datetime as _dt
import urllib.parse as _parse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from batchmeta import _native
from batchmeta.errors import BatchmetaError, InvalidInputError, NotFoundError
from batchmeta.results import BatchInfo, StoreResult

if TYPE_CHECKING:
    from batchmeta import Client


def _key_type(spark_type: Any) -> str:
    name = type(spark_type).__name__
    if name in ("ByteType", "ShortType", "IntegerType", "LongType"):
        return "int"
    if name == "DateType":
        return "date"
    if name == "StringType":
        return "string"
    raise InvalidInputError(
        f"a partition key column of Spark type {spark_type.simpleString()} cannot be a "
        "partition key; hint: cast it to string, int or date first (df.withColumn(...))",
        code="invalid_partition",
    )


def _value_type(v: object) -> str:
    if isinstance(v, bool):
        return "string"
    if isinstance(v, int):
        return "int"
    if isinstance(v, _dt.date):
        return "date"
    return "string"


def _key(client: Client, uri: str, name: str) -> str:
    """The warehouse-relative object key of file ``name`` in the batch at ``uri``."""
    root = client.warehouse.rstrip("/") + "/"
    if not uri.startswith(root):
        raise BatchmetaError(
            f"batch location {uri} is not under the warehouse {client.warehouse}",
            code="internal_error",
        )
    return _parse.unquote(uri[len(root):]).rstrip("/") + "/" + name


def _spark_path(uri: str) -> str:
    """The URI as Spark's Hadoop file systems take it (``s3://`` is ``s3a://``)."""
    if uri.startswith("s3://"):
        return "s3a://" + uri[len("s3://"):]
    return uri


def _written_files(spark: Any, path: str) -> list[str]:
    """Names of the Parquet part files Spark wrote under ``path`` (names only)."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    p = jvm.org.apache.hadoop.fs.Path(path)
    fs = p.getFileSystem(conf)
    names = []
    for st in fs.listStatus(p):
        n = st.getPath().getName()
        if st.isFile() and not n.startswith(("_", ".")) and n.endswith(".parquet"):
            names.append(n)
    return sorted(names)


def _wrap_spark(e: Exception, what: str) -> BatchmetaError:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return BatchmetaError(
        f"Spark could not {what}: {text}; hint: nothing was published (the staged "
        "batch is never read); check that Spark's executors can write to the warehouse",
        code="spark_write_failed",
    )


def store(
    client: Client,
    df: Any,
    db: str,
    table: str,
    partitions: Sequence[Any] | None,
    *,
    partition_by: Sequence[str] | None,
    expected_batch: str | None,
    schema_mode: str | None,
    message: str | None,
    metadata: Mapping[str, str] | None,
    idempotency_key: str | None,
    publish: bool,
) -> StoreResult:
    from pyspark.sql import functions as F

    spark = df.sparkSession
    columns = {f.name: f for f in df.schema.fields}

    if partitions is not None and partition_by is not None:
        raise InvalidInputError(
            "give partitions or partition_by, not both", code="invalid_partition"
        )

    # Which partitions, as (spec for batchmeta, {key: value}) pairs.
    targets: list[tuple[Any, dict[str, Any]]] = []
    key_names: list[str]
    if partition_by is not None:
        key_names = list(partition_by)
        missing = [k for k in key_names if k not in columns]
        if missing:
            raise InvalidInputError(
                f"partition_by column(s) {missing} are not in the DataFrame "
                f"(columns: {sorted(columns)}); hint: partition_by names columns of df",
                code="invalid_partition",
            )
        # Only the distinct key values reach the driver, never rows.
        for row in df.select(*key_names).distinct().orderBy(*key_names).collect():
            values = {k: row[k] for k in key_names}
            if any(v is None for v in values.values()):
                raise InvalidInputError(
                    f"partition_by column(s) {key_names} hold nulls; a partition value "
                    "cannot be null; hint: fill or filter them first",
                    code="invalid_partition",
                )
            targets.append((dict(values), values))
        if not targets:
            raise InvalidInputError(
                "the DataFrame is empty: partition_by found no partition to write",
                code="empty_batch",
            )
    elif partitions is not None:
        if len(partitions) != 1:
            raise InvalidInputError(
                "store_dataframe writes exactly one partition; hint: use partition_by=[...] "
                "to write several in one commit",
                code="invalid_partition",
            )
        spec = partitions[0]
        targets.append((spec, dict(spec) if isinstance(spec, Mapping) else {}))
        key_names = list(spec) if isinstance(spec, Mapping) else []
    else:
        key_names = []
        targets.append((None, {}))

    # The table: its keys give the names of positional specs; created on first write.
    created = False
    try:
        info = client.table(db, table)
        table_keys = [k for k, _ in info.partition_keys]
    except NotFoundError as e:
        if e.code != "table_not_found":
            raise
        table_keys = key_names
        if partitions is not None and not isinstance(partitions[0], Mapping):
            raise NotFoundError(
                f"table {db}.{table} does not exist; hint: the first write names its partition "
                "keys: partitions=[{\"date\": ...}] or partition_by=[...]",
                code="table_not_found",
            ) from None
        from pyspark.sql.pandas.types import to_arrow_schema

        data = df.drop(*[k for k in table_keys if k in columns])
        key_types = []
        for k in table_keys:
            if k in columns:
                key_types.append((k, _key_type(columns[k].dataType)))
            else:
                key_types.append((k, _value_type(targets[0][1][k])))
        client.create_table(db, table, to_arrow_schema(data.schema), key_types)
        created = True

    for i, (spec, values) in enumerate(targets):
        if not values and spec is not None and not isinstance(spec, Mapping):
            vals = list(spec) if isinstance(spec, tuple) else [spec]
            if len(vals) != len(table_keys):
                raise InvalidInputError(
                    f"partition {spec!r} has {len(vals)} value(s) but {db}.{table} has keys "
                    f"{table_keys}",
                    code="invalid_partition",
                )
            targets[i] = (spec, dict(zip(table_keys, vals)))

    # Key columns in df must hold the partition's value in every row (as for pandas).
    if partition_by is None:
        for _, values in targets:
            for k, v in values.items():
                if k in columns:
                    bad = df.filter(F.col(k).isNull() | (F.col(k) != F.lit(v))).limit(1).count()
                    if bad:
                        raise InvalidInputError(
                            f"column {k} holds a value other than the partition's {v!r}; "
                            "hint: filter df to the partition, or use partition_by",
                            code="partition_value_mismatch",
                        )

    staged = client.stage(
        db,
        table,
        [spec if spec is not None else () for spec, _ in targets],
        message=message,
        metadata=metadata,
        idempotency_key=idempotency_key,
    )

    previous = spark.conf.get("spark.sql.parquet.outputTimestampType", None)
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    registered: list[BatchInfo] = []
    try:
        for (spec, values), batch in zip(targets, staged):
            part = df
            for k, v in values.items():
                if k in columns:
                    part = part.filter(F.col(k) == F.lit(v))
            part = part.drop(*[k for k in table_keys if k in columns])
            path = _spark_path(batch.location)
            try:
                part.write.mode("append").parquet(path)
                names = _written_files(spark, path)
            except Exception as e:  # py4j / pyspark errors
                raise _wrap_spark(e, f"write batch {batch.batch_id} to {path}") from e
            if not names:
                raise BatchmetaError(
                    f"Spark wrote no Parquet file to {path}; hint: nothing was published",
                    code="empty_batch",
                )
            raw = _native.add_files(
                client._native,
                db, table, batch.batch_id, [_key(client, batch.location, n) for n in names]
            )
            registered.append(BatchInfo._from(raw))
    finally:
        if previous is None:
            spark.conf.unset("spark.sql.parquet.outputTimestampType")
        else:
            spark.conf.set("spark.sql.parquet.outputTimestampType", previous)

    commit_id = None
    event_ids: list[int] = []
    if publish:
        commit = client.publish(
            db,
            table,
            [(spec, b.batch_id) for (spec, _), b in zip(targets, registered)],
            expected_batch=expected_batch,
            schema_mode=schema_mode,  # type: ignore[arg-type]
            message=message,
        )
        commit_id = commit.commit_id
        event_ids = [e.id for e in commit.events]
    return StoreResult(
        table=f"{db}.{table}",
        batches=registered,
        commit_id=commit_id,
        event_ids=event_ids,
        created_table=created,
        published=publish,
    )
