"""Benchmarks that print figures (cold start, DynamoDB round trips); they never fail a build."""
