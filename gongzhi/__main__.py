"""`python -m gongzhi COMMAND`: see gongzhi.cli."""

import sys

from gongzhi.cli import main

if __name__ == "__main__":
    sys.exit(main())
