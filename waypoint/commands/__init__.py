"""One module per group of verbs; each defines ``register(subparsers)``. Keep imports of heavy
libraries inside the verb functions so ``waypoint --help`` stays fast."""
