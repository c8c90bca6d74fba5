"""The six cases of issue 7, one module each; each has ``run(ctx) -> dict``
returning JSON-ready results."""
