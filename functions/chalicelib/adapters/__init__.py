"""Adapters: DynamoDB, Secrets Manager and friends behind the domain's ports."""
