"""The embedded local stack: DynamoDB Local, the API, a stream pump and a scheduler."""
