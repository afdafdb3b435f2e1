"""PostGraphile 5 as a benchmark peer: ``python -m bench.peers.postgraphile --help``."""
