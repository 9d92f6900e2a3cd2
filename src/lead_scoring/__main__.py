"""`python -m lead_scoring`: the same as the `lead-scoring` command."""

from lead_scoring.cli import main

raise SystemExit(main())
