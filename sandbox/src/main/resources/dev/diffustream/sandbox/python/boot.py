"""Starts the harness from its precompiled module (a script given on the command line would be
compiled from source on every start, which is most of a sandbox's start-up time)."""
import sys

sys.path.insert(0, __file__.rpartition("/")[0])
import harness  # noqa: E402

del sys.path[0]
harness.main()
