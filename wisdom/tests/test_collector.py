"""The collector as a serving worker sets it: start-up's objects frozen, later garbage still collected."""

from wisdom.tests.startup import clean_env, run_python

SETTLED = """
import gc, weakref
from wisdom.collector import THRESHOLDS, collector_settle

class Node:
    pass

before = Node()
collector_settle()
print(gc.get_threshold() == THRESHOLDS, gc.is_tracked(before), any(o is before for o in gc.get_objects()))
after = Node()
after.itself = after  # a reference cycle: only the collector frees it
gone = weakref.ref(after)
del after
gc.collect()
print(gone() is None)
"""


def test_settling_freezes_what_exists_and_still_collects_cycles_made_later():
    result = run_python(["-c", SETTLED], env=clean_env())

    assert result.returncode == 0, result.stderr
    set_thresholds, tracked_before, scanned_before = result.stdout.splitlines()[0].split()
    assert set_thresholds == "True"
    assert (tracked_before, scanned_before) == ("True", "False")  # frozen: kept, never scanned
    assert result.stdout.splitlines()[1] == "True"
