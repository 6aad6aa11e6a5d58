"""The API docs page's schema (/api/schema/docs): every scheme an operation takes is listed, so Swagger UI's
Authorize sends it; the schema clients generate from (/api/schema, openapi.yaml) keeps the bearer token alone."""

import pytest
import yaml

from tests.helpers.processes import ROOT

COMMITTED = yaml.safe_load((ROOT / "openapi.yaml").read_text())


def _operations(schema: dict) -> dict:
    return {op["operationId"]: op for item in schema["paths"].values() for op in item.values()}


def _headers(operation: dict) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


@pytest.fixture
def docs_schema(api_client) -> dict:
    response = api_client.get("/api/schema/docs", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def test_the_docs_page_lists_each_scheme_where_the_operation_takes_its_header(docs_schema):
    committed = _operations(COMMITTED)

    for operation_id, operation in _operations(docs_schema).items():
        headers = _headers(committed[operation_id])
        expected = [] if not committed[operation_id].get("security") else [{"jwtAuth": []}]
        expected += [{"apiKey": []}] if "X-API-Key" in headers else []
        expected += [{"serviceKey": []}] if "X-Service-Key" in headers and expected else []
        assert operation.get("security", []) == expected, operation_id
        assert not {"X-API-Key", "X-Service-Key"} & _headers(operation), operation_id  # the schemes send them
        assert ("X-On-Behalf-Of" in _headers(operation)) == ("X-On-Behalf-Of" in headers), operation_id
    assert _operations(docs_schema)["getMe"]["security"] == [{"jwtAuth": []}, {"apiKey": []}, {"serviceKey": []}]
    assert _operations(docs_schema)["createInvite"]["security"] == [{"jwtAuth": []}, {"serviceKey": []}]


def test_the_schema_clients_generate_from_still_lists_only_the_bearer_token(api_client):
    served = api_client.get("/api/schema", HTTP_ACCEPT="application/json").json()

    assert {str(op.get("security")) for op in _operations(served).values()} == {"None", "[{'jwtAuth': []}]"}


def test_the_docs_page_reads_the_docs_schema_under_the_product_s_title(api_client):
    page = api_client.get("/api/docs")

    assert page.status_code == 200
    assert b"/api/schema/docs" in page.content and b"<title>API docs \xc2\xb7 Intuno Personal</title>" in page.content
