"""diffustream sandbox harness: the trusted side of one sandbox, used for exactly one completion.

It runs as root (keeping only CAP_SETUID, CAP_SETGID, CAP_KILL, CAP_CHOWN, CAP_DAC_OVERRIDE and
CAP_FOWNER) inside a fresh bubblewrap sandbox: new mount, PID, network, IPC and UTS namespaces,
/usr read-only, a private tmpfs on /tmp, no /proc, no /etc, a cleared environment. It is PID 2
under bwrap's init, so ``kill(-1, SIGKILL)`` reaches every other process of this sandbox and
nothing outside it.

Protocol with the supervisor (stdin/stdout; untrusted code never writes to this stdout):

* at start-up it writes ``READY\\n``;
* it reads one job from stdin until EOF: ``DSJOB1\\n<n>\\n<len_1> ... <len_n>\\n`` followed by the
  n UTF-8 fields ``block, code, setup, test_1 .. test_k``;
* for the syntax check and for every test it writes one record
  ``R <S|T> <index> <outcome> <ms> <msg_len> <out_len>\\n<msg><out>``, and ``D\\n`` at the end;
  a fault of the harness itself is ``X <len>\\n<message>``.

The syntax check and every test run in a child forked from the harness before any untrusted code
ran in it, so each test sees the full solution followed by that single test in a pristine
interpreter. The child drops to the slot's unprivileged uid (which clears every capability and
makes it non-dumpable), applies resource limits and a seccomp filter, installs an audit hook, and
only then compiles and runs untrusted code. A test counts as passed only if the child writes the
per-test secret nonce, which happens only after the test statement itself returned.

Start-up cost matters (one harness per completion): only built-in modules are imported here.
"""

import _ast
import _collections
import _signal
import builtins
import errno
import posix
import resource
import select
import sys
import time
import types  # noqa: F401 -- imports fine only before the audit hook: it reads tb_frame at import

_MAX_RES = 64 * 1024
_READ_CHUNK = 1 << 20
_MODULE = type(sys)

# Standard modules imported ahead of the fork when the code or the tests import them: the import
# then costs once per completion instead of once per test, and the module is still pristine.
_WARMABLE = frozenset(
    """abc array base64 binascii bisect calendar cmath collections colorsys contextlib copy csv
    dataclasses datetime decimal difflib enum fractions functools hashlib heapq io itertools json
    keyword math numbers operator os pprint queue random re statistics string struct textwrap
    typing unicodedata uuid weakref zlib""".split()
)
# Extension modules needed by those (after the seccomp filter forbids new executable mappings no
# extension module can be loaded any more, which is what keeps ctypes out).
_EXTENSIONS = {
    "decimal": ("_decimal",), "statistics": ("_decimal",), "fractions": ("_decimal",),
    "json": ("_json",), "contextvars": ("_contextvars",), "asyncio": ("_contextvars",),
    "queue": ("_queue",), "typing": ("_typing",), "uuid": ("_uuid",), "bz2": ("_bz2",),
    "lzma": ("_lzma",), "mmap": ("mmap",), "sqlite3": ("_sqlite3",), "termios": ("termios",),
    "getpass": ("termios",), "tty": ("termios",),
    "multiprocessing": ("_multiprocessing", "_posixshmem"),
}
# Modules whose attributes are restored between the solution and the test, when loaded.
_RESTORED = frozenset(
    """builtins math cmath operator functools itertools collections heapq bisect copy random re
    string statistics fractions decimal typing os time json""".split()
)
_DENIED_IMPORTS = frozenset(
    """ctypes _ctypes _ctypes_test _testcapi _testinternalcapi _testbuffer _testmultiphase
    _testimportmultiple _testclinic _xxsubinterpreters _xxinterpchannels _xxtestfuzz""".split()
)
_PROT_EXEC = 0x4
_SECCOMP_DENIED = (
    "ptrace process_vm_readv process_vm_writev perf_event_open bpf userfaultfd keyctl add_key "
    "request_key mount umount2 pivot_root chroot unshare setns kexec_load kexec_file_load "
    "init_module finit_module delete_module reboot swapon swapoff io_uring_setup io_uring_enter "
    "io_uring_register personality acct quotactl open_by_handle_at name_to_handle_at syslog iopl "
    "ioperm vhangup clock_settime settimeofday adjtimex fanotify_init lookup_dcookie shmget "
    "msgget semget"
).split()
_SIGNAL_NAMES = {}
for _name in dir(_signal):
    if _name.startswith("SIG") and not _name.startswith("SIG_"):
        _SIGNAL_NAMES.setdefault(getattr(_signal, _name), _name)


def _emit(data):
    view = memoryview(data)
    while view:
        n = posix.write(1, view)
        view = view[n:]


def _fatal(message):
    data = message.encode("utf-8", "replace")
    try:
        _emit(b"X %d\n" % len(data) + data)
    finally:
        posix._exit(3)


def _read_job():
    chunks = []
    while True:
        chunk = posix.read(0, _READ_CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
    data = b"".join(chunks)
    chunks.clear()
    head, _, rest = data.partition(b"\n")
    if head != b"DSJOB1":
        _fatal("bad job header %r" % head[:40])
    count_line, _, rest = rest.partition(b"\n")
    lengths_line, _, body = rest.partition(b"\n")
    lengths = [int(x) for x in lengths_line.split()]
    if len(lengths) != int(count_line) or sum(lengths) != len(body) or len(lengths) < 3:
        _fatal("malformed job: %d fields, %d bytes" % (len(lengths), len(body)))
    fields = []
    pos = 0
    for n in lengths:
        fields.append(body[pos:pos + n].decode("utf-8", "surrogatepass"))
        pos += n
    return fields


def _imported_names(text):
    """Top-level module names of `import x` / `from x import y` lines (a cheap scan, no parse)."""
    names = set()
    for line in text.splitlines():
        words = line.replace(",", " ").split()
        if len(words) >= 2 and words[0] in ("import", "from"):
            candidates = words[1:2] if words[0] == "from" else [
                w for w in words[1:] if w not in ("as",)]
            for w in candidates:
                names.add(w.split(".")[0])
    return names


def _warm_imports(texts):
    wanted = set()
    for text in texts:
        wanted |= _imported_names(text)
        for module, extensions in _EXTENSIONS.items():
            if module in text:
                wanted.update(extensions)
    for name in sorted(wanted):
        if (name in _WARMABLE or name.startswith("_")) and name not in _DENIED_IMPORTS:
            if name.startswith("_") and not any(name in e for e in _EXTENSIONS.values()):
                continue
            try:
                __import__(name)
            except Exception:
                pass
    return wanted


def _build_seccomp():
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import seccomp
    except ImportError:
        _fatal("python3-seccomp is not installed: apt-get install -y python3-seccomp")
    finally:
        sys.path.remove("/usr/lib/python3/dist-packages")
    flt = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in _SECCOMP_DENIED:
        try:
            flt.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except Exception:
            pass  # not a syscall on this architecture / libseccomp version
    # No new executable mappings: no extension module, shared library or injected machine code can
    # be loaded once untrusted code runs (the interpreter's own mappings already exist).
    for name in ("mmap", "mprotect", "pkey_mprotect"):
        try:
            flt.add_rule(seccomp.ERRNO(errno.EPERM), name,
                         seccomp.Arg(2, seccomp.MASKED_EQ, _PROT_EXEC, _PROT_EXEC))
        except Exception:
            pass
    return flt


# ---------------------------------------------------------------------------------------------
# Strict equality: a rewrite of the test's syntax tree (the tests are trusted) so that
# comparisons and assert conditions do not trust __eq__, __bool__ and friends of objects the
# candidate's code made.
# ---------------------------------------------------------------------------------------------

_CMP = "_dsStrictCmp"
_CHAIN = "_dsStrictChain"
_TRUTH = "_dsStrictTruth"
_OPS = {_ast.Eq: "==", _ast.NotEq: "!=", _ast.Lt: "<", _ast.LtE: "<=", _ast.Gt: ">",
        _ast.GtE: ">=", _ast.In: "in", _ast.NotIn: "not in", _ast.Is: "is", _ast.IsNot: "is not"}
_REWRITTEN = (_ast.Eq, _ast.NotEq, _ast.Lt, _ast.LtE, _ast.Gt, _ast.GtE, _ast.In, _ast.NotIn)
_LOC = ("lineno", "col_offset", "end_lineno", "end_col_offset")


def _at(new, old):
    for attr in _LOC:
        setattr(new, attr, getattr(old, attr, None))
    return new


def _name(identifier, old):
    return _at(_ast.Name(id=identifier, ctx=_ast.Load()), old)


def _rewrite_compare(node):
    if not any(isinstance(op, _REWRITTEN) for op in node.ops):
        return node
    if len(node.ops) == 1:
        args = [_at(_ast.Constant(value=_OPS[type(node.ops[0])]), node), node.left,
                node.comparators[0]]
        return _at(_ast.Call(func=_name(_CMP, node), args=args, keywords=[]), node)
    # Chains keep Python's short-circuit: later operands are evaluated lazily.
    args = [node.left]
    for op, comparator in zip(node.ops, node.comparators):
        empty = _ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[],
                               kw_defaults=[], kwarg=None, defaults=[])
        args.append(_at(_ast.Constant(value=_OPS[type(op)]), node))
        args.append(_at(_ast.Lambda(args=empty, body=comparator), comparator))
    return _at(_ast.Call(func=_name(_CHAIN, node), args=args, keywords=[]), node)


def _strict_truth(expr):
    if isinstance(expr, _ast.BoolOp):
        expr.values = [_strict_truth(v) for v in expr.values]
        return expr
    if isinstance(expr, _ast.UnaryOp) and isinstance(expr.op, _ast.Not):
        expr.operand = _strict_truth(expr.operand)
        return expr
    if isinstance(expr, (_ast.Constant, _ast.Compare)):
        return expr  # a Compare left here only holds `is` / `is not`: identity cannot be faked
    if (isinstance(expr, _ast.Call) and isinstance(expr.func, _ast.Name)
            and expr.func.id in (_CMP, _CHAIN)):
        return expr
    return _at(_ast.Call(func=_name(_TRUTH, expr), args=[expr], keywords=[]), expr)


def _strict_rewrite(node):
    for field in node._fields:
        value = getattr(node, field, None)
        if isinstance(value, list):
            setattr(node, field, [_strict_rewrite(v) if isinstance(v, _ast.AST) else v
                                  for v in value])
        elif isinstance(value, _ast.AST):
            setattr(node, field, _strict_rewrite(value))
    if isinstance(node, _ast.Compare):
        return _rewrite_compare(node)
    if isinstance(node, _ast.Assert):
        node.test = _strict_truth(node.test)
    return node


def _compile_test(text, strict):
    tree = compile(text, "<string>", "exec", _ast.PyCF_ONLY_AST, dont_inherit=True)
    if strict:
        tree = _strict_rewrite(tree)
    return compile(tree, "<string>", "exec", dont_inherit=True, optimize=0)


def _make_strict_helpers():
    """Comparison helpers bound only to values captured here (builtins may be patched later)."""
    _type = type
    _len = len
    _range = range
    _bytes = bytes
    _memoryview = memoryview
    _list = list
    _tuple = tuple
    _bool = bool
    _AssertionError = AssertionError
    _RecursionError = RecursionError
    _mro = type.__dict__["__mro__"].__get__
    _flags = type.__dict__["__flags__"].__get__
    _tname = type.__dict__["__name__"].__get__
    heap = 1 << 9
    NoneType = type(None)
    deque = _collections.deque
    kinds = (bool, int, float, complex, str, bytes, bytearray, list, tuple, dict, set, frozenset,
             NoneType)
    int_int = int.__int__
    float_float = float.__float__
    complex_complex = complex.__complex__
    str_str = str.__str__
    list_len, list_get = list.__len__, list.__getitem__
    tuple_len, tuple_get = tuple.__len__, tuple.__getitem__
    dict_len, dict_items, dict_keys, dict_get = dict.__len__, dict.items, dict.keys, dict.get
    set_len, set_contains = set.__len__, set.__contains__
    fset_len, fset_contains = frozenset.__len__, frozenset.__contains__
    str_len, str_contains = str.__len__, str.__contains__
    bytes_contains = bytes.__contains__
    missing = object()
    exact_plain = (bool, int, float, complex, str, bytes, NoneType)

    def kind(x):
        t = _type(x)
        for k in kinds:
            if t is k:
                return k
        for base in _mro(t):
            for k in kinds:
                if base is k:
                    return k
        return None

    def is_numeric(k):
        return k is bool or k is int or k is float or k is complex

    def plain_number(x, k):
        if k is bool:
            return x
        if k is int:
            return int_int(x)
        if k is float:
            return float_float(x)
        return complex_complex(x)

    def plain_key(x):
        t = _type(x)
        for k in exact_plain:
            if t is k:
                return True
        if t is tuple:
            for i in _range(tuple_len(x)):
                if not plain_key(tuple_get(x, i)):
                    return False
            return True
        return False

    def same_type_in(x, items):
        t = _type(x)
        for y in items:
            if _type(y) is t:
                return True
        return False

    def seq(a, b, depth):
        if a is b:
            return True
        if depth > 500:
            raise _RecursionError("strict equality: structure nested too deeply")
        ka = kind(a)
        kb = kind(b)
        if ka is None or kb is None:
            ta = _type(a)
            if ta is not _type(b):
                return False
            if ta is deque:
                return seq(_list(a), _list(b), depth + 1)
            # Same type outside the builtin kinds: C types are trusted; a class of the code's own
            # making compares by its own rules (a documented gap).
            result = a == b
            return result is True or (not (_flags(ta) & heap) and _bool(result))
        if is_numeric(ka) and is_numeric(kb):
            return plain_number(a, ka) == plain_number(b, kb)
        if (ka is bytes or ka is bytearray) and (kb is bytes or kb is bytearray):
            return _bytes(_memoryview(a)) == _bytes(_memoryview(b))
        if ka is not kb and not ((ka is set or ka is frozenset) and (kb is set or kb is frozenset)):
            return False
        if ka is str:
            return str_str(a) == str_str(b)
        if ka is NoneType:
            return True
        if ka is list or ka is tuple:
            ln, get = (list_len, list_get) if ka is list else (tuple_len, tuple_get)
            n = ln(a)
            if n != ln(b):
                return False
            for i in _range(n):
                if not seq(get(a, i), get(b, i), depth + 1):
                    return False
            return True
        if ka is dict:
            if dict_len(a) != dict_len(b):
                return False
            b_keys = _list(dict_keys(b))
            for key in _list(dict_keys(a)):
                if not plain_key(key) and not same_type_in(key, b_keys):
                    return False
            for key, vb in _list(dict_items(b)):
                va = dict_get(a, key, missing)
                if va is missing or not seq(va, vb, depth + 1):
                    return False
            return True
        alen, acontains = (set_len, set_contains) if ka is set else (fset_len, fset_contains)
        if alen(a) != (set_len if kb is set else fset_len)(b):
            return False
        b_items = _list(b)
        for x in _list(a):
            if not plain_key(x) and not same_type_in(x, b_items):
                return False
        for y in b_items:
            if not acontains(a, y):
                return False
        return True

    def plain_order_value(x):
        k = kind(x)
        if k is None:
            return missing
        if is_numeric(k):
            return plain_number(x, k)
        if k is str:
            return str_str(x)
        if k is bytes or k is bytearray:
            return _bytes(_memoryview(x))
        if k is list or k is tuple:
            ln, get = (list_len, list_get) if k is list else (tuple_len, tuple_get)
            items = []
            for i in _range(ln(x)):
                v = plain_order_value(get(x, i))
                if v is missing:
                    return missing
                items.append(v)
            return items if k is list else _tuple(items)
        return missing

    def order(op, a, b):
        pa = plain_order_value(a)
        pb = plain_order_value(b)
        if pa is missing or pb is missing:
            if _type(a) is not _type(b):
                return False
            pa, pb = a, b  # same type outside the builtin kinds: its own ordering
        if op == "<":
            r = pa < pb
        elif op == "<=":
            r = pa <= pb
        elif op == ">":
            r = pa > pb
        else:
            r = pa >= pb
        return r is True

    def contains(a, b):
        kb = kind(b)
        if kb is list or kb is tuple:
            ln, get = (list_len, list_get) if kb is list else (tuple_len, tuple_get)
            for i in _range(ln(b)):
                if seq(a, get(b, i), 0):
                    return True
            return False
        if kb is set or kb is frozenset or kb is dict:
            if plain_key(a):
                if kb is dict:
                    return dict_get(b, a, missing) is not missing
                return (set_contains if kb is set else fset_contains)(b, a)
            for y in _list(b):
                if seq(a, y, 0):
                    return True
            return False
        if kb is str:
            return kind(a) is str and str_contains(str_str(b), str_str(a))
        if kb is bytes or kb is bytearray:
            ka = kind(a)
            if ka is int:
                return bytes_contains(_bytes(_memoryview(b)), int_int(a))
            return (ka is bytes or ka is bytearray) and bytes_contains(
                _bytes(_memoryview(b)), _bytes(_memoryview(a)))
        if _type(b) is deque:
            return contains(a, _list(b))
        return (a in b) is True

    def compare(op, a, b):
        if op == "==":
            return seq(a, b, 0)
        if op == "!=":
            return not seq(a, b, 0)
        if op == "in":
            return contains(a, b)
        if op == "not in":
            return not contains(a, b)
        if op == "is":
            return a is b
        if op == "is not":
            return a is not b
        return order(op, a, b)

    def chain(left, *rest):
        for i in _range(0, _len(rest), 2):
            right = rest[i + 1]()
            if not compare(rest[i], left, right):
                return False
            left = right
        return True

    def truth(v):
        t = _type(v)
        if t is bool:
            return v
        k = kind(v)
        if k is not None:
            if is_numeric(k):
                return plain_number(v, k) != 0
            if k is NoneType:
                return False
            if k is str:
                return str_len(v) > 0
            if k is bytes or k is bytearray:
                return _len(_memoryview(v)) > 0
            if k is list:
                return list_len(v) > 0
            if k is tuple:
                return tuple_len(v) > 0
            if k is dict:
                return dict_len(v) > 0
            return (set_len if k is set else fset_len)(v) > 0
        if not (_flags(t) & heap):
            return _bool(v)
        raise _AssertionError(
            "strict equality: the truth value of a %s object is not trusted" % _tname(t))

    return {_CMP: compare, _CHAIN: chain, _TRUTH: truth}


# ---------------------------------------------------------------------------------------------
# Audit hook (PEP 578; cannot be removed once added): no frame, object-graph or memory
# introspection that could reveal the nonce or the other tests, no code objects from raw bytes.
# ---------------------------------------------------------------------------------------------

def _make_audit_hook():
    _type = type
    _str = str
    _bytes = bytes
    _int = int
    _open = open
    _fspath = posix.fspath
    _getcwd = posix.getcwd
    _ValueError = ValueError
    _RuntimeError = RuntimeError
    _AttributeError = AttributeError
    _PermissionError = PermissionError
    _ImportError = ImportError
    _BaseException = BaseException
    _eacces = errno.EACCES
    frame_attrs = frozenset(("tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back"))
    denied = frozenset((
        "sys._current_frames", "sys._current_exceptions", "sys.settrace", "sys.setprofile",
        "sys.addaudithook", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
        "code.__new__", "marshal.load",
    ))
    denied_imports = _DENIED_IMPORTS
    denied_paths = ("/proc", "/sys", "/dev/fd", "/dev/mem", "/dev/kmem", "/dev/port",
                    "/dev/core", "/dev/stdin", "/dev/stdout", "/dev/stderr")
    stdlib = "/usr/lib/python3"
    last_pyc = [None]

    def path_of(p):
        t = _type(p)
        if t is _str:
            return p
        if t is _bytes:
            return p.decode("utf-8", "replace")
        if t is _int:
            return None
        try:
            p = _fspath(p)
        except _BaseException:
            return None
        return path_of(p) if _type(p) is _str or _type(p) is _bytes else None

    def absolute(path):
        if not path.startswith("/"):
            try:
                path = _getcwd() + "/" + path
            except _BaseException:
                return "/"
        parts = []
        for part in path.split("/"):
            if part == "..":
                if parts:
                    parts.pop()
            elif part and part != ".":
                parts.append(part)
        return "/" + "/".join(parts)

    def hook(event, args):
        if event == "object.__getattr__":
            if args[1] in frame_attrs:
                raise _AttributeError("frame introspection is disabled in the sandbox")
            return
        if event == "open":
            path = path_of(args[0])
            if path is None:
                return
            path = absolute(path)
            for prefix in denied_paths:
                if path == prefix or path.startswith(prefix + "/"):
                    raise _PermissionError(_eacces, "access denied in the sandbox", path)
            if path.endswith(".pyc") and path.startswith(stdlib):
                last_pyc[0] = path
            return
        if event == "marshal.loads":
            # Only the standard library's own byte code may be unmarshalled (crafted byte code can
            # read arbitrary memory): the bytes must equal the .pyc importlib just opened.
            path = last_pyc[0]
            last_pyc[0] = None
            data = args[0]
            if path is not None and _type(data) is _bytes:
                with _open(path, "rb") as f:
                    ok = f.read()[16:] == data
                last_pyc[0] = None
                if ok:
                    return
            raise _RuntimeError("marshal.loads is disabled in the sandbox")
        if event == "sys._getframe":
            # ValueError is what typing, collections and logging already tolerate.
            raise _ValueError("call stack introspection is disabled in the sandbox")
        if event == "import":
            name = args[0]
            if _type(name) is _str and name.partition(".")[0] in denied_imports:
                raise _ImportError("module %s is not available in the sandbox" % name)
            return
        if event in denied or event.startswith("ctypes."):
            raise _RuntimeError("%s is disabled in the sandbox" % event)

    return hook


class _Prepared:
    """Everything a child needs, made once per completion before the first fork."""

    def __init__(self, strict, restored):
        self.private_builtins = dict(builtins.__dict__)
        self.helpers = _make_strict_helpers() if strict else {}
        self.hook = _make_audit_hook()
        self.saved_modules = dict(sys.modules)
        self.import_state = [(name, getattr(sys, name)) for name in (
            "modules", "meta_path", "path_hooks", "path", "path_importer_cache")]
        self.import_lists = [(v, list(v)) for _, v in self.import_state if type(v) is list]
        self.snapshot = [(m.__dict__, dict(m.__dict__)) for name, m in sys.modules.items()
                         if name in restored and type(m) is _MODULE]


# ---------------------------------------------------------------------------------------------
# The child: one syntax check or one test, in a process of its own.
# ---------------------------------------------------------------------------------------------

def _child(mode, payload, code, setup, test_code, nonce, out_w, res_w, workdir, cfg, flt, prep,
           scrub):
    """Runs in the forked child and never returns."""
    try:
        devnull = posix.open("/dev/null", posix.O_RDWR)
        posix.dup2(devnull, 0)
        posix.dup2(out_w, 1)
        posix.dup2(out_w, 2)
        posix.dup2(res_w, 3)
        posix.set_inheritable(3, False)
        posix.closerange(4, cfg["maxfd"])
        posix.setpgid(0, 0)
        # The harness installs no signal handler: the child keeps a fresh interpreter's
        # dispositions (SIGPIPE and SIGXFSZ ignored, SIGINT raising KeyboardInterrupt).
        _signal.pthread_sigmask(_signal.SIG_SETMASK, ())
        posix.chdir(workdir)
        scrub()

        cpu = cfg["cpu"]
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (cfg["mem"], cfg["mem"]))
        resource.setrlimit(resource.RLIMIT_FSIZE, (cfg["fsize"], cfg["fsize"]))
        resource.setrlimit(resource.RLIMIT_NOFILE, (cfg["nofile"], cfg["nofile"]))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_MEMLOCK, (0, 0))
        resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))
        if cfg["drop"]:
            resource.setrlimit(resource.RLIMIT_NPROC, (cfg["nproc"], cfg["nproc"]))
            uid = cfg["uid"]
            posix.setgroups([])
            posix.setresgid(uid, uid, uid)
            posix.setresuid(uid, uid, uid)  # from 0 to non-zero: every capability is cleared
            if posix.getuid() != uid or posix.geteuid() != uid:
                posix._exit(72)
        if flt is not None:
            flt.load()

        env = {b"PATH": b"/usr/bin:/bin", b"HOME": workdir.encode(),
               b"TMPDIR": workdir.encode(), b"LANG": b"C.UTF-8"}
        for key in list(posix.environ):
            posix.unsetenv(key)
        posix.environ.clear()
        for key, value in env.items():
            posix.putenv(key, value)
            posix.environ[key] = value
        sys.argv[:] = ["-c"]
        random = sys.modules.get("random")
        if random is not None:
            random.seed()  # the harness's generator state must not be shared by all tests

        main = _MODULE("__main__")
        g = main.__dict__
        g["__builtins__"] = builtins
        g["__annotations__"] = {}
        sys.modules["__main__"] = main
    except BaseException as e:
        try:
            posix.write(3, b"\x00\x01Esandbox set-up failed: %r" % (e,))
        finally:
            posix._exit(73)

    if mode != "test":
        # The syntax check shares the first test's process: its verdict is the first line the
        # harness reads, written before any untrusted code runs.
        _check_syntax(payload, mode == "syntax")
    _run_test(code, setup, test_code, nonce, g, prep)


def _check_syntax(block, only):
    # Same as ast.parse(block.strip()), without importing the ast module.
    try:
        compile(block.strip(), "<unknown>", "exec", _ast.PyCF_ONLY_AST)
        posix.write(3, b"OK\n")
    except BaseException as e:  # SyntaxError; also ValueError (NUL bytes), MemoryError, ...
        try:
            msg = ("%s: %s" % (type(e).__name__, e)).encode("utf-8", "replace")[:500]
        except BaseException:
            msg = b"unparsable"
        posix.write(3, b"S" + msg.replace(b"\n", b" ") + b"\n")
        posix._exit(0)
    if only:
        posix._exit(0)


def _run_test(code, setup, test_code, nonce, g, prep):
    # Everything used once untrusted code has started is bound here: patching builtins, os, sys
    # or this module's globals from the candidate's code changes nothing of what follows.
    _write = posix.write
    _exit = posix._exit
    _exec = exec
    _compile = compile
    _dict = dict
    _type = type
    _issubclass = issubclass
    _str = str
    _setattr = setattr
    _sys = sys
    _tname = type.__dict__["__name__"].__get__
    _AssertionError = AssertionError
    _MemoryError = MemoryError
    _BaseException = BaseException
    _stdout = sys.stdout
    _stderr = sys.stderr
    _missing = object()
    modules = sys.modules
    private_builtins = prep.private_builtins
    helpers = prep.helpers
    saved_modules = prep.saved_modules
    import_state = prep.import_state
    import_lists = prep.import_lists
    snapshot = prep.snapshot

    def flush():
        for stream in (_stdout, _stderr):
            try:
                stream.flush()
            except _BaseException:
                pass

    def report(e):
        tag = b"E"
        t = None
        try:
            t = _type(e)
            if _issubclass(t, _AssertionError):
                tag = b"F"
            elif _issubclass(t, _MemoryError):
                tag = b"M"
        except _BaseException:
            pass
        try:
            _write(3, b"\x00\x01" + tag)
        except _BaseException:
            return
        try:
            text = _str(e)
            msg = _tname(t) + (": " + text[:400] if _type(text) is _str and text else "")
            _write(3, msg.encode("utf-8", "replace"))
        except _BaseException:
            pass

    def restore_modules():
        # Undo what the solution's top level rebound in the import system and in common modules
        # (e.g. math.isclose, builtins.abs), so the test sees them as a fresh interpreter would.
        for name, value in import_state:
            _setattr(_sys, name, value)
        for live_list, saved_list in import_lists:
            live_list[:] = saved_list
        for name, module in saved_modules.items():
            if modules.get(name, _missing) is not module:
                modules[name] = module
        for live, saved in snapshot:
            for key, value in saved.items():
                if live.get(key, _missing) is not value:
                    live[key] = value

    saved_modules["__main__"] = modules["__main__"]
    sys.addaudithook(prep.hook)
    try:
        solution = _compile(code, "<string>", "exec", dont_inherit=True, optimize=0)
        _exec(solution, g)
        if setup:
            _exec(_compile(setup, "<string>", "exec", dont_inherit=True, optimize=0), g)
        restore_modules()
        scope = _dict(g)
        scope["__builtins__"] = private_builtins
        scope.update(helpers)
        _exec(test_code, scope)
    except _BaseException as e:
        report(e)
        flush()
        _exit(1)
    _write(3, nonce)
    flush()
    _exit(0)


# ---------------------------------------------------------------------------------------------
# The harness side.
# ---------------------------------------------------------------------------------------------

def _describe_status(status):
    if posix.WIFSIGNALED(status):
        sig = posix.WTERMSIG(status)
        return "killed by %s" % _SIGNAL_NAMES.get(sig, str(sig)), sig
    return "exited with status %d" % posix.WEXITSTATUS(status), None


class Harness:
    def __init__(self, cfg):
        self.isolated = cfg["isolated"] == "1"
        if self.isolated and posix.getpid() > 2:
            _fatal("isolated mode needs a fresh PID namespace (pid %d)" % posix.getpid())
        uid = int(cfg["uid"])
        self.child_cfg = {
            "uid": uid,
            "drop": uid > 0 and posix.geteuid() == 0,
            "cpu": int(cfg["cpu"]),
            "mem": int(cfg["mem"]),
            "fsize": int(cfg["fsize"]),
            "nofile": int(cfg["nofile"]),
            "nproc": int(cfg["nproc"]),
            "maxfd": max(256, posix.sysconf("SC_OPEN_MAX")),
        }
        self.strict = cfg["strict"] == "1"
        self.test_timeout = float(cfg["timeout"])
        self.budget = float(cfg["budget"])
        self.max_out = int(cfg["maxout"])
        self.tmp = cfg.get("tmp", "/tmp")
        self.trash = self.tmp + "/.trash"
        posix.mkdir(self.trash, 0o700)
        self.flt = _build_seccomp() if cfg["seccomp"] == "1" else None
        self.counter = 0

    def kill_all(self, child_pid):
        """SIGKILLs every other process of the sandbox (bwrap's init excepted); returns the
        child's (wait status, rusage) if it was reaped here."""
        reaped = None
        deadline = time.monotonic() + 10.0
        while True:
            try:
                if self.isolated:
                    posix.kill(-1, _signal.SIGKILL)
                else:
                    posix.killpg(child_pid, _signal.SIGKILL)
            except ProcessLookupError:
                break
            except PermissionError:
                if not self.isolated:
                    break
                raise
            while True:
                try:
                    pid, st, usage = posix.wait4(-1, posix.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                if pid == child_pid:
                    reaped = (st, usage)
            if time.monotonic() > deadline:
                _fatal("processes of the sandbox did not die within 10 s")
            time.sleep(0.0002)
        return reaped

    def run_child(self, mode, payload, code, setup, test_code, timeout, prep, scrub):
        """Runs one check or test in a fresh child; returns (outcome, ms, msg, out)."""
        self.counter += 1
        workdir = "%s/w%d" % (self.tmp, self.counter)
        posix.mkdir(workdir, 0o700)
        if self.child_cfg["drop"]:
            posix.chown(workdir, self.child_cfg["uid"], self.child_cfg["uid"])
        out_r, out_w = posix.pipe()
        res_r, res_w = posix.pipe()
        nonce = posix.urandom(16).hex().encode()
        started = time.monotonic()
        pid = posix.fork()
        if pid == 0:
            try:
                _child(mode, payload, code, setup, test_code, nonce, out_w, res_w, workdir,
                       self.child_cfg, self.flt, prep, scrub)
            finally:
                posix._exit(74)
        posix.close(out_w)
        posix.close(res_w)
        out = bytearray()
        res = bytearray()
        state = {"found": False, "tail": b""}
        max_out = self.max_out

        def consume(fd, chunk):
            if fd == out_r:
                if len(out) < max_out:
                    out.extend(chunk[:max_out - len(out)])
                return
            window = state["tail"] + chunk
            if nonce in window:
                state["found"] = True
            state["tail"] = window[-len(nonce):]
            if len(res) < _MAX_RES:
                res.extend(chunk[:_MAX_RES - len(res)])

        pidfd = posix.pidfd_open(pid)
        poller = select.poll()
        for fd in (out_r, res_r, pidfd):
            poller.register(fd, select.POLLIN)
        open_fds = {out_r, res_r}
        deadline = started + timeout
        timed_out = False
        while True:
            remain = deadline - time.monotonic()
            if remain <= 0:
                timed_out = True
                break
            exited = False
            for fd, _ in poller.poll(max(1, int(remain * 1000))):
                if fd == pidfd:
                    exited = True
                    continue
                chunk = posix.read(fd, _READ_CHUNK)
                if chunk:
                    consume(fd, chunk)
                else:
                    poller.unregister(fd)
                    open_fds.discard(fd)
            if exited:
                break
        elapsed_ms = int((time.monotonic() - started) * 1000)
        reaped = self.kill_all(pid)
        if reaped is None:
            _, status, usage = posix.wait4(pid, 0)
        else:
            status, usage = reaped
        cpu_used = usage.ru_utime + usage.ru_stime
        # Every writer is dead now: drain the pipes to EOF.
        for fd in open_fds:
            while True:
                chunk = posix.read(fd, _READ_CHUNK)
                if not chunk:
                    break
                consume(fd, chunk)
        for fd in (out_r, res_r, pidfd):
            posix.close(fd)
        self.discard(workdir)
        return self.classify(mode, state["found"], timed_out, status, cpu_used, bytes(res),
                             bytes(out), elapsed_ms, timeout)

    def discard(self, workdir):
        """Deletes a test's work dir; what cannot be deleted is moved out of reach."""
        try:
            self.remove_tree(workdir)
        except OSError:
            posix.rename(workdir, "%s/w%d" % (self.trash, self.counter))

    @staticmethod
    def remove_tree(root):
        stack = [(root, False)]
        while stack:
            path, listed = stack.pop()
            if listed:
                posix.rmdir(path)
                continue
            stack.append((path, True))
            with posix.scandir(path) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((entry.path, False))
                    else:
                        posix.unlink(entry.path)

    def classify(self, mode, found, timed_out, status, cpu_used, res, out, ms, timeout):
        """Returns (syntax verdict or None, test result or None), each (outcome, ms, msg, out)."""
        out_text = out.decode("utf-8", "replace")
        how, sig = _describe_status(status)
        syntax = None
        if mode != "test":
            verdict, newline, res = res.partition(b"\n")
            if newline and verdict == b"OK":
                syntax = ("OK", ms, "", "")
            elif newline and verdict.startswith(b"S"):
                return ("SYNTAX", ms, verdict[1:].decode("utf-8", "replace"), out_text), None
            elif timed_out:
                return ("SYNTAX", ms, "the parser did not finish within %gs" % timeout,
                        out_text), None
            else:
                return ("SYNTAX", ms, "the parser failed (%s)" % how, out_text), None
            if mode == "syntax":
                return syntax, None
        return syntax, self.classify_test(found, timed_out, sig, how, cpu_used, res, out_text, ms,
                                          timeout)

    def classify_test(self, found, timed_out, sig, how, cpu_used, res, out_text, ms, timeout):
        if found:
            return "PASSED", ms, "", out_text
        if timed_out:
            return "TIMEOUT", ms, "no result within %gs" % timeout, out_text
        cpu_limit = self.child_cfg["cpu"]
        if sig == _signal.SIGXCPU or (sig == _signal.SIGKILL and cpu_used >= cpu_limit - 0.1):
            return "TIMEOUT", ms, "CPU time limit of %ds exceeded (%s)" % (cpu_limit, how), out_text
        marker = res.rfind(b"\x00\x01")
        if marker >= 0 and marker + 2 < len(res):
            tag = res[marker + 2:marker + 3]
            msg = res[marker + 3:].decode("utf-8", "replace")[:500]
            if tag == b"F":
                return "FAILED", ms, msg or "AssertionError", out_text
            if tag == b"M":
                return "MEMORY_LIMIT", ms, msg or "MemoryError", out_text
            return "ERROR", ms, msg, out_text
        if sig == _signal.SIGXFSZ:
            return "ERROR", ms, "file size limit exceeded (%s)" % how, out_text
        return "ERROR", ms, "the process %s before the test statement completed" % how, out_text

    @staticmethod
    def record(kind, index, outcome, ms, msg, out):
        msg_b = msg.encode("utf-8", "replace")
        out_b = out.encode("utf-8", "replace")
        _emit(b"R %s %d %s %d %d %d\n" % (kind.encode(), index, outcome.encode(), ms, len(msg_b),
                                            len(out_b)) + msg_b + out_b)

    def compile_tests(self, tests):
        compiled = []
        for text in tests:
            try:
                compiled.append((_compile_test(text, self.strict), None))
            except (SyntaxError, ValueError) as e:
                compiled.append((None, "the test does not compile: %s: %s"
                                 % (type(e).__name__, e)))
        return compiled

    def run(self):
        _emit(b"READY\n")
        fields = _read_job()
        started = time.monotonic()
        block, code, setup = fields[0], fields[1], fields[2]
        tests = fields[3:]
        fields.clear()
        imported = _warm_imports([code, setup] + tests)
        compiled = self.compile_tests(tests)
        prep = _Prepared(self.strict, _RESTORED | imported)

        def scrub():
            # In a child, before untrusted code runs: drop the tests it must not see.
            tests.clear()
            compiled.clear()

        syntax_known = False
        not_compiling = []
        for index in range(len(compiled)):
            test_code, error = compiled[index]
            compiled[index] = None
            if error is not None:
                not_compiling.append((index, error))
                continue
            remain = self.budget - (time.monotonic() - started)
            if remain <= 0.05:
                self.record("T", index, "SKIPPED", 0,
                            "the execution time budget of %gs was exhausted" % self.budget, "")
                continue
            timeout = min(self.test_timeout, remain)
            syntax, result = self.run_child("test" if syntax_known else "both", block, code,
                                            setup, test_code, timeout, prep, scrub)
            test_code = None
            if not syntax_known:
                self.record("S", 0, *syntax)
                if syntax[0] != "OK":
                    _emit(b"D\n")
                    return
                syntax_known = True
            outcome, ms, msg, out = result
            if outcome == "TIMEOUT" and timeout < self.test_timeout:
                msg = "the execution time budget of %gs was exhausted" % self.budget
            self.record("T", index, outcome, ms, msg, out)
        if not syntax_known:
            syntax, _ = self.run_child("syntax", block, None, None, None, self.test_timeout, prep,
                                       scrub)
            self.record("S", 0, *syntax)
            if syntax[0] != "OK":
                _emit(b"D\n")
                return
        for index, error in not_compiling:
            self.record("T", index, "ERROR", 0, error, "")
        _emit(b"D\n")


def main():
    cfg = {}
    for arg in sys.argv[1:]:
        key, _, value = arg.partition("=")
        cfg[key] = value
    try:
        Harness(cfg).run()
    except SystemExit:
        raise
    except BaseException as e:
        _fatal("harness failed: %s: %s" % (type(e).__name__, e))


if __name__ == "__main__":
    main()
