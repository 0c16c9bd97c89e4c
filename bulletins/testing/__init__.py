"""What the tests and the benches share: the site in real processes, and slow clients against it."""
