"""One definition of every cloud resource, used by the CDK stack (cdk/) and the local cloud (local/)."""
