"""The HTTP contract: one route table and the OpenAPI 3.1 document built from it."""
