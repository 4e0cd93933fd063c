"""`make bench`: how fast jobs_assets is against the floor and against the alternatives.

Not part of `make test` (pytest's testpaths is `jobs_assets_tests` only). Run with
`python -m benchmarks --scale small|full`; see BENCHMARKS.md for the results.
"""
