"""`make bench`: issue 3's speed and memory figures, each beside a reference measured in the same run."""
