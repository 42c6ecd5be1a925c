"""Files of every kind (ticket attachments, onboarding documents, knowledge attachments): one pipeline.

``types`` (what may be uploaded), ``service`` (the record and the API operations), ``storage`` (S3:
presigned POST/GET, moves), and, for the scan function only, ``sniff``, ``scanner``, ``thumbnails``
and ``pipeline``. API modules import nothing heavier than boto3 from here.
"""
