"""How long the e2e tests wait."""

# how long a test waits for the local cloud's event pump (stream consumers, scans, mail) to have acted: a
# deadline polled against, not a sleep, so generous: the cloud shares two cores with the other worker's tests
PUMP_WAIT_SECONDS = 60.0
