# Augmenting declarations: Cython compiles engine.py with these as C types (see setup.py):
# calls, splice states and collectors made here are read and written as C structs.

from anntools.csq.collector cimport Collector
from anntools.csq.splice cimport Call, Splice
