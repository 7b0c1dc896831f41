"""No function in the core is too complex to follow: radon's cyclomatic-complexity grade of every
function and method under gongzhi/ is C or better (D starts at 21 paths through a function)."""

from pathlib import Path

from radon.complexity import cc_rank, cc_visit

CORE = Path(__file__).resolve().parent.parent / "gongzhi"
WORST_ALLOWED = "C"


def _grades() -> dict[str, tuple[str, int]]:
    grades = {}
    for path in sorted(CORE.rglob("*.py")):
        for block in cc_visit(path.read_text(encoding="utf-8")):
            name = f"{path.relative_to(CORE.parent).as_posix()}::{block.fullname}"
            grades[name] = (cc_rank(block.complexity), block.complexity)
            for closure in getattr(block, "closures", []):
                grades[f"{name}.{closure.name}"] = (cc_rank(closure.complexity), closure.complexity)
    return grades


def test_no_function_in_the_core_is_graded_worse_than_c():
    grades = _grades()
    assert len(grades) > 500  # the walk found the core
    too_complex = {name: grade for name, grade in grades.items()
                   if grade[0] > WORST_ALLOWED}
    assert too_complex == {}
