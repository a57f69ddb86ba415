"""diffustream sandbox supervisor: the trusted, host-side process of one engine slot.

The Java engine starts one supervisor per slot and talks to it over stdin/stdout, one JSON object
per line:

* on start: ``{"t": "hello", "pid": ...}``;
* request: ``{"id": ..., "block": ..., "code": ..., "setup": ..., "tests": [...]}``;
* reply: ``{"id": ..., "ok": true, "syntax": {...}, "tests": [{...}], "ms": ...}`` or
  ``{"id": ..., "ok": false, "error": "..."}`` when the sandbox itself failed.

For every request it uses a fresh bubblewrap sandbox running harness.py, launched ahead of demand
(prelaunch) and used exactly once. It is a child subreaper (PR_SET_CHILD_SUBREAPER), so whatever
bwrap leaves behind is re-parented here and reaped at once, and it dies with the JVM
(PR_SET_PDEATHSIG).
"""

import ctypes
import errno
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
_READ = 1 << 16
_MAX_STDERR = 8192
_READY_TIMEOUT = 30.0
_EXIT_GRACE = 5.0

_exited = {}


def _reap(*_):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _exited[pid] = status


def _children():
    """Pids whose parent is this process (orphans of bwrap are re-parented here)."""
    me = os.getpid()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name may contain spaces and parentheses: parse after the last ')'
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == me:
            found.append(int(name))
    return found


def _sweep(keep):
    """SIGKILLs and reaps every child but `keep`. bubblewrap has a start-up race: when its monitor
    dies before the namespace child armed its parent-death signal, that child waits forever; as
    the subreaper we inherit it, and end it here."""
    for pid in _children():
        if pid not in keep:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + _EXIT_GRACE
    while time.monotonic() < deadline and any(p not in keep for p in _children()):
        _reap()
        time.sleep(0.001)
    _reap()


def _emit(obj):
    sys.stdout.write(json.dumps(obj, ensure_ascii=True) + "\n")
    sys.stdout.flush()


def _frame_job(fields):
    encoded = [f.encode("utf-8", "surrogatepass") for f in fields]
    head = b"DSJOB1\n%d\n%s\n" % (len(encoded), b" ".join(b"%d" % len(e) for e in encoded))
    return head + b"".join(encoded)


class SandboxFault(Exception):
    pass


class Sandbox:
    """One launched harness (inside bwrap unless unisolated), used for one job."""

    def __init__(self, argv, tmp):
        self.tmp = tmp
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env={}, close_fds=True,
                                     cwd=tmp or "/")
        self.pid = self.proc.pid
        self.out_fd = self.proc.stdout.fileno()
        self.err_fd = self.proc.stderr.fileno()
        os.set_blocking(self.out_fd, False)
        os.set_blocking(self.err_fd, False)
        self.buf = bytearray()
        self.err = bytearray()
        self.out_eof = False
        self.err_eof = False
        self.ready = False

    def alive(self):
        return self.pid not in _exited

    def pump(self, timeout):
        """Reads what is available from the harness within timeout seconds."""
        fds = [fd for fd, eof in ((self.out_fd, self.out_eof), (self.err_fd, self.err_eof))
               if not eof]
        if not fds:
            time.sleep(min(timeout, 0.01))
            return
        readable, _, _ = select.select(fds, [], [], max(0.0, timeout))
        for fd in readable:
            try:
                chunk = os.read(fd, _READ)
            except BlockingIOError:
                continue
            if fd == self.out_fd:
                if chunk:
                    self.buf.extend(chunk)
                else:
                    self.out_eof = True
            else:
                if chunk:
                    if len(self.err) < _MAX_STDERR:
                        self.err.extend(chunk[:_MAX_STDERR - len(self.err)])
                else:
                    self.err_eof = True

    def next_record(self):
        """Parses one complete record from the buffer, or returns None."""
        nl = self.buf.find(b"\n")
        if nl < 0:
            return None
        head = bytes(self.buf[:nl]).split(b" ")
        kind = head[0]
        if kind in (b"READY", b"D"):
            del self.buf[:nl + 1]
            return (kind.decode(),)
        if kind == b"X":
            n = int(head[1])
            if len(self.buf) < nl + 1 + n:
                return None
            msg = bytes(self.buf[nl + 1:nl + 1 + n]).decode("utf-8", "replace")
            del self.buf[:nl + 1 + n]
            return ("X", msg)
        if kind == b"R":
            msg_len, out_len = int(head[5]), int(head[6])
            end = nl + 1 + msg_len + out_len
            if len(self.buf) < end:
                return None
            msg = bytes(self.buf[nl + 1:nl + 1 + msg_len]).decode("utf-8", "replace")
            out = bytes(self.buf[nl + 1 + msg_len:end]).decode("utf-8", "replace")
            del self.buf[:end]
            return ("R", head[1].decode(), int(head[2]), head[3].decode(), int(head[4]), msg, out)
        raise SandboxFault("unexpected output from the harness: %r" % bytes(self.buf[:80]))

    def stderr_text(self):
        return bytes(self.err).decode("utf-8", "replace").strip()

    def kill(self):
        if self.alive():
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self):
        self.kill()
        deadline = time.monotonic() + _EXIT_GRACE
        while self.alive() and time.monotonic() < deadline:
            _reap()
            time.sleep(0.001)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
        _exited.pop(self.pid, None)
        self.proc.returncode = 0  # reaped by us: keep subprocess from waiting on it
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


class Supervisor:
    def __init__(self, cfg):
        self.cfg = cfg
        self.isolated = not cfg["unisolated"]
        self.harness = cfg["harness"]
        self.next = None

    def harness_args(self, tmp):
        c = self.cfg
        args = {
            "isolated": "1" if self.isolated else "0",
            "uid": str(c["uid"]),
            "cpu": str(c["cpuSeconds"]),
            "mem": str(c["memoryBytes"]),
            "fsize": str(c["fileSizeBytes"]),
            "nofile": str(c["openFiles"]),
            "nproc": str(c["processes"]),
            "strict": "1" if c["strict"] else "0",
            "timeout": repr(c["testTimeout"]),
            "budget": repr(c["budget"]),
            "maxout": str(c["maxOutput"]),
            "seccomp": "1" if c["seccomp"] else "0",
            "tmp": tmp or "/tmp",
        }
        return ["%s=%s" % kv for kv in args.items()]

    def launch(self):
        c = self.cfg
        if not self.isolated:
            tmp = tempfile.mkdtemp(prefix="diffustream-unisolated-")
            os.chmod(tmp, 0o755)
            argv = [c["python"], "-I", "-S", os.path.join(self.harness, "boot.py")]
            return Sandbox(argv + self.harness_args(tmp), tmp)
        argv = [c["bwrap"],
                "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--die-with-parent", "--new-session",
                "--hostname", "sandbox",
                "--ro-bind", "/usr", "/usr",
                "--tmpfs", "/usr/local", "--remount-ro", "/usr/local",
                "--symlink", "usr/lib", "/lib", "--symlink", "usr/bin", "/bin",
                "--symlink", "usr/sbin", "/sbin"]
        if os.path.isdir("/usr/lib64"):
            argv += ["--symlink", "usr/lib64", "/lib64"]
        argv += ["--ro-bind", self.harness, "/harness",
                 "--perms", "0755", "--size", str(c["tmpBytes"]), "--tmpfs", "/tmp",
                 "--dev", "/dev",
                 "--perms", "0755", "--tmpfs", "/dev/shm",
                 "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8",
                 "--chdir", "/tmp",
                 "--cap-drop", "ALL"]
        for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_CHOWN", "CAP_DAC_OVERRIDE",
                    "CAP_FOWNER"):
            argv += ["--cap-add", cap]
        argv += [c["python"], "-I", "-S", "/harness/boot.py"] + self.harness_args(None)
        return Sandbox(argv, None)

    def take(self):
        sandbox, self.next = self.next, None
        if sandbox is not None and sandbox.alive():
            return sandbox
        if sandbox is not None:
            sandbox.close()
            _sweep(keep=())
        return self.launch()

    def prelaunch(self):
        if self.cfg["prelaunch"] and self.next is None:
            try:
                self.next = self.launch()
            except OSError:
                self.next = None

    def execute(self, job):
        started = time.monotonic()
        try:
            sandbox = self.take()
        except OSError as e:
            raise SandboxFault("cannot launch the sandbox: %s" % e)
        try:
            return self.run(sandbox, job, started)
        finally:
            sandbox.close()
            # Whatever the sandbox left (bwrap's namespace child and the harness die by their
            # parent-death signal, asynchronously; a start-up race may leave one waiting) is
            # killed and reaped before the next sandbox starts: a slot holds at most one.
            _sweep(keep=())
            self.prelaunch()

    def run(self, sandbox, job, started):
        deadline = time.monotonic() + _READY_TIMEOUT
        while True:
            record = sandbox.next_record()
            if record is not None:
                if record[0] == "READY":
                    sandbox.ready = True
                    break
                if record[0] == "X":
                    raise SandboxFault("harness failed at start-up: %s" % record[1])
                raise SandboxFault("unexpected record before READY: %r" % (record,))
            # A bwrap that died during its start-up may leave a child holding the pipes open: do
            # not wait for end-of-file, watch the process itself.
            ended = sandbox.out_eof or not sandbox.alive()
            if ended or time.monotonic() > deadline:
                raise SandboxFault("the sandbox did not start: %s" % (
                    sandbox.stderr_text() or ("it ended without a word" if ended else
                                              "no output within %gs" % _READY_TIMEOUT)))
            sandbox.pump(min(0.05, deadline - time.monotonic()))
        payload = _frame_job([job["block"], job["code"], job.get("setup") or ""]
                             + list(job["tests"]))
        try:
            sandbox.proc.stdin.write(payload)
            sandbox.proc.stdin.close()
        except OSError as e:
            raise SandboxFault("cannot send the job to the harness: %s (%s)"
                               % (e, sandbox.stderr_text()))
        backstop = time.monotonic() + self.cfg["budget"] + self.cfg["testTimeout"] + 15.0
        syntax = None
        tests = []
        while True:
            record = sandbox.next_record()
            if record is None:
                if sandbox.out_eof:
                    raise SandboxFault("the harness ended without finishing the job: %s" % (
                        sandbox.stderr_text() or "no error output"))
                if time.monotonic() > backstop:
                    raise SandboxFault("the harness exceeded its time budget")
                sandbox.pump(min(1.0, backstop - time.monotonic()))
                continue
            if record[0] == "D":
                break
            if record[0] == "X":
                raise SandboxFault("harness fault: %s" % record[1])
            _, kind, index, outcome, ms, msg, out = record
            entry = {"i": index, "outcome": outcome, "ms": ms, "msg": msg, "out": out}
            if kind == "S":
                syntax = entry
            else:
                tests.append(entry)
        if syntax is None:
            raise SandboxFault("the harness reported no syntax check")
        return {"id": job["id"], "ok": True, "syntax": syntax, "tests": tests,
                "ms": int((time.monotonic() - started) * 1000)}

    def close(self):
        if self.next is not None:
            self.next.close()
            self.next = None
        _sweep(keep=())


def main():
    cfg = json.loads(sys.argv[1])
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        _emit({"t": "error", "error": "prctl(PR_SET_CHILD_SUBREAPER) failed: errno %d"
               % ctypes.get_errno()})
        return 2
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        return 0  # the JVM died before PDEATHSIG was armed
    signal.signal(signal.SIGCHLD, _reap)
    import py_compile
    py_compile.compile(os.path.join(cfg["harness"], "harness.py"), doraise=True)
    supervisor = Supervisor(cfg)
    supervisor.prelaunch()
    _emit({"t": "hello", "pid": os.getpid()})
    stdin = sys.stdin.buffer
    try:
        while True:
            line = stdin.readline()
            if not line:
                break
            if not line.strip():
                continue
            try:
                job = json.loads(line)
            except ValueError as e:
                _emit({"id": None, "ok": False, "error": "malformed request: %s" % e})
                continue
            try:
                _emit(supervisor.execute(job))
            except SandboxFault as e:
                _emit({"id": job.get("id"), "ok": False, "error": str(e)})
            except Exception as e:  # keep serving: report this job as a sandbox fault
                _emit({"id": job.get("id"), "ok": False,
                       "error": "supervisor error: %s: %s" % (type(e).__name__, e)})
    finally:
        supervisor.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
