//! Arrow record batches to and from Parquet files under a batch prefix.
