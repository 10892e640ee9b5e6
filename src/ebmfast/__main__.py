"""Entry point of ``python -m ebmfast`` and of the ``ebmfast`` console script."""

import sys

from ebmfast._cli import main

if __name__ == "__main__":
    sys.exit(main())
