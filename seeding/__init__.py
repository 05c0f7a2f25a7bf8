"""Data for trying einstein out and for measuring it: the demo (``make run``) and a city's worth
(``seed-large``, for the benchmarks). Not part of the runtime package: it uses einstein's
services as any script would, and nothing in ``einstein/`` imports it but the command line."""
