"""Speed and memory benchmarks against reference implementations (run with ``make bench``)."""
