"""The service desk: tickets linked to the customer (docs/service.md)."""
