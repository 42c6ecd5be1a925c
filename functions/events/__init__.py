"""Event consumers: the DynamoDB stream consumers (audit trail, survey invitations, ticket -> work order
automation) and the uploads-queue (SQS) consumer that scans uploads. Scheduled jobs are in ``functions.schedules``."""
