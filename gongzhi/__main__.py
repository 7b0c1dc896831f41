"""`python -m gongzhi COMMAND`: see gongzhi.cli. Its output is plain text: translations keep
their parameters as typed (no Markdown escapes)."""

import sys

from gongzhi.cli import main
from gongzhi.i18n import plain_text

if __name__ == "__main__":
    with plain_text():
        sys.exit(main())
