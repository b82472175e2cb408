"""`python -m hlmshell` runs the same entry point as the `hlmshell` console script."""
import sys

from hlmshell.cli import main

if __name__ == "__main__":
    sys.exit(main())
