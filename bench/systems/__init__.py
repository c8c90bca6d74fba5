"""One module per measured system, each exposing a table class with the
same methods (see ``base.PartitionedTable``)."""
