"""Speed benchmarks. Not tests: they print figures (as ratios against a baseline measured in
the same run where one exists) for the notes. Run all with `make bench`, one with
`python -m perf.<name>`."""
