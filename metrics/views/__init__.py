"""Step 1's pages: the metric list and the pilot page's panel, the metric form, a metric's trend."""
