"""DynamoDB storage: pynamodb models (one module per table) and repositories."""
