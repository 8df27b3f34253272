"""The C heap settings of coach/listen/asr/native_memory.py, seen through glibc's own
count of mapped blocks, each case in a fresh process (the setting is process-wide)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import ctypes, ctypes.util, sys
from coach.listen.asr.native_memory import give_back_freed_memory, map_large_buffers
libc = ctypes.CDLL(ctypes.util.find_library("c"))
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc.mallinfo2.restype = Info
if sys.argv[1] == "mapped":
    assert map_large_buffers()
base = libc.mallinfo2().hblks
first = bytearray(2_000_000)
del first
second = bytearray(2_000_000)          # the same size again, after it was freed
print(libc.mallinfo2().hblks - base)
give_back_freed_memory()
"""


def mapped_blocks_for_a_reused_size(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return int(done.stdout.strip())


def test_large_buffers_stay_mappings_of_their_own_once_set() -> None:
    assert mapped_blocks_for_a_reused_size("mapped") == 1


def test_without_it_glibc_puts_a_freed_size_into_the_heap() -> None:
    """What the setting prevents (and what makes the test above able to fail)."""
    assert mapped_blocks_for_a_reused_size("default") == 0
