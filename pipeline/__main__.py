import os
import sys

from pipeline.cli.main import main

code = main()
# The command is done: the process ends here, without the interpreter freeing
# what it made object by object (a campus register's snapshot is tens of
# thousands of them, a tenth of a second of every `run`). Nothing is lost: the
# log is written and flushed line by line, the register is closed, every
# worker process has been ended, and the console is flushed now.
try:
    sys.stdout.flush()
    sys.stderr.flush()
except (OSError, ValueError):  # the reader went away (`status | head`): nothing left to say
    pass
os._exit(code)
