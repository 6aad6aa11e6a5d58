"""A runnable fake of the private agents service, honouring its contract, with latency and fault switches.

Run it: python -m personal.double --host 127.0.0.1 --port 8001 --api-key dev-agents-key
Drive it from tests and benchmarks with personal.double.process.running_double().
"""
