"""One module per scenario; each scenario is a function returning a small frozen result."""
