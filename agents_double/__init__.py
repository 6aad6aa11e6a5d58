"""A runnable fake of the private agents service, honouring its contract, with latency and fault switches.

Test tooling, not product: it is left out of the production image (.dockerignore).
Run it: python -m agents_double --host 127.0.0.1 --port 8001 --api-key dev-agents-key
Drive it from tests and benchmarks with tests.helpers.double.running_double().
"""
