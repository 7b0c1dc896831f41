"""The lifecycle's and the meetings' functions stay readable: radon grades none of them worse
than C (cyclomatic complexity at most 20). `_apply_move` and `decide` were graded E."""

import pytest
from radon.complexity import cc_rank, cc_visit

from tests.conftest import PROJECT_ROOT


@pytest.mark.parametrize("module", ["gongzhi/lifecycle.py", "gongzhi/crud/meetings.py"])
def test_no_function_is_graded_worse_than_c(module):
    blocks = cc_visit((PROJECT_ROOT / module).read_text(encoding="utf-8"))
    assert blocks, "radon found nothing to grade"
    worse = {block.name: f"{cc_rank(block.complexity)} ({block.complexity})" for block in blocks
             if cc_rank(block.complexity) > "C"}
    assert worse == {}
