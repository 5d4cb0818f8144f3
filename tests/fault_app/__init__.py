"""A test-only app for the worker fault tests (tests/test_readiness_worker.py): its readiness module adds
a figure source that, while a flag file exists, stalls the first recompute so the test can kill the
worker process in the middle of it. Installed only by tests/fault_settings.py, never in the product."""
