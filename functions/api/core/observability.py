"""The Powertools Logger and Metrics every API function shares (one of each per container)."""

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="deskos")
metrics = Metrics(namespace="DeskOS", service="deskos")
