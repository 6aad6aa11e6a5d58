"""The suite's one copy of each test secret and shared expectation."""

# Every test user's password: long and unusual enough for Django's validators.
PASSWORD = "a-long-and-unusual-passphrase"

SERVICE_KEY = "test-service-key-1"
ROTATED_SERVICE_KEY = "test-service-key-2"
AGENTS_API_KEY = "test-agents-key"

# The headers wisdom itself sends upstream; anything else would have come from the client.
UPSTREAM_HEADERS = frozenset(
    {
        "host",
        "user-agent",
        "accept-encoding",
        "accept",
        "connection",
        "x-api-key",
        "x-user-id",
        "x-request-id",
        "content-type",
        "content-length",
    }
)

# The free plan's messages per minute on the contract suite's server (tests/test_contract_flow.py).
CONTRACT_MESSAGES_PER_MINUTE = 3
