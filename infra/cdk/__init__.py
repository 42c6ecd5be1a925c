"""The AWS deployment of DeskOS (AWS CDK)."""
