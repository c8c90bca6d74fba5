"""The benchmark harness of issue 7: batchmeta side by side with raw pyarrow,
deltalake, pyiceberg and a naive pyarrow + SQLite model. Run ``make bench``
(or ``make bench-quick``); ``python -m bench.run --help`` lists the options."""
