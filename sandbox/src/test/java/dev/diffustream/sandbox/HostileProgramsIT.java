package dev.diffustream.sandbox;

import static dev.diffustream.sandbox.SandboxTestSupport.eventually;
import static dev.diffustream.sandbox.SandboxTestSupport.py;
import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.schemas.avro.Outcome;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile programs: each must be contained, get the right typed outcome and leave nothing behind
 * (no process of a sandbox uid, no extra descendant of this JVM, no file in the host's temporary
 * directory), and the engine must keep serving after all of them. Every reward hack here would pass
 * its tests under the release's "exit status 0 = passed" rule or a lax comparison.
 */
class HostileProgramsIT {
    private static final int UID_BASE = 64200;
    private static final int WORKERS = 2;
    private static final String SECRET_VAR = "DIFFUSTREAM_SANDBOX_TEST_SECRET";

    private static SandboxEngine engine;
    private static Set<String> tmpBeforeStart;
    private static Set<String> tmpAfterStart;

    record Hostile(
            String name,
            String code,
            List<String> tests,
            Outcome expected,
            Consumer<ExecutionResult> check) {
        Hostile(String name, String code, List<String> tests, Outcome expected) {
            this(name, code, tests, expected, r -> {});
        }

        @Override
        public String toString() {
            return name;
        }
    }

    @BeforeAll
    static void start() {
        // the engine's start sweeps directories of ended processes: sweep first, so that the
        // comparisons below see this engine's own entries only
        ScriptsDirectory.removeStale(
                Path.of(System.getProperty("java.io.tmpdir")), ScriptsDirectory.MIN_STALE_AGE);
        tmpBeforeStart = SandboxTestSupport.tmpEntries();
        engine =
                SandboxEngine.start(
                        SandboxConfig.defaults().toBuilder()
                                .workers(WORKERS)
                                .uidBase(UID_BASE)
                                .testTimeoutSeconds(2)
                                .cpuTimeSeconds(3)
                                .executionTimeoutSeconds(20)
                                .build());
        tmpAfterStart = SandboxTestSupport.tmpEntries();
    }

    @AfterEach
    void nothingLeftBehind() {
        assertThat(
                        eventually(
                                () ->
                                        SandboxTestSupport.processesOfUids(
                                                        UID_BASE, UID_BASE + WORKERS)
                                                .isEmpty()))
                .as(
                        "processes of the sandbox uids: %s",
                        SandboxTestSupport.processesOfUids(UID_BASE, UID_BASE + WORKERS))
                .isTrue();
        assertThat(eventually(HostileProgramsIT::onlySlotProcesses))
                .as("descendants: %s", SandboxTestSupport.descendants())
                .isTrue();
        assertThat(SandboxTestSupport.tmpEntries()).isEqualTo(tmpAfterStart);
    }

    /** Only supervisors and, per slot, at most one idle pre-launched sandbox. */
    private static boolean onlySlotProcesses() {
        List<String> d = SandboxTestSupport.descendantCommandLines();
        long harnesses =
                d.stream().filter(c -> c.contains("boot.py") && !c.contains("bwrap")).count();
        return d.size() <= 4 * WORKERS
                && harnesses <= WORKERS
                && d.stream()
                        .allMatch(
                                c ->
                                        c.contains("supervisor.py")
                                                || c.contains("bwrap")
                                                || c.contains("boot.py"));
    }

    @AfterAll
    static void stillServingThenGone() {
        String scripts = engine.scriptsDir().toString();
        try {
            // the engine still serves after every hostile program
            ExecutionResult r =
                    engine.execute(
                            new ExecutionRequest(
                                    py("def add(a, b):\n    return a + b\n"),
                                    List.of("assert add(1, 2) == 3", "assert add(-1, 1) == 0")));
            assertThat(r.outcome()).isEqualTo(Outcome.PASSED);
            assertThat(engine.stats().sandboxErrors()).isZero();
        } finally {
            engine.close();
        }
        assertThat(eventually(() -> SandboxTestSupport.descendants().isEmpty()))
                .as("descendants after close: %s", SandboxTestSupport.descendants())
                .isTrue();
        // anywhere on the host, not only below this JVM (an orphan is re-parented away)
        assertThat(eventually(() -> SandboxTestSupport.processesMentioning(scripts).isEmpty()))
                .as(
                        "processes of the engine after close: %s",
                        SandboxTestSupport.processesMentioning(scripts))
                .isTrue();
        assertThat(SandboxTestSupport.tmpEntries()).isEqualTo(tmpBeforeStart);
    }

    static Stream<Hostile> hostilePrograms() {
        String add = "def add(a, b):\n    return a + b\n";
        List<String> addTests = List.of("assert add(1, 2) == 3", "assert add(2, 2) == 4");
        String projectFile =
                Path.of(System.getProperty("diffustream.root", "/work/main"), "pom.xml").toString();
        List<Hostile> h = new ArrayList<>();

        // --- resource exhaustion ---
        h.add(
                new Hostile(
                        "fork bomb",
                        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
                        addTests,
                        Outcome.TIMEOUT));
        h.add(
                new Hostile(
                        "fork bomb is capped by the process limit",
                        "import os, time\nforked = 0\nfor _ in range(500):\n    try:\n        if os.fork() == 0:\n"
                                + "            time.sleep(30)\n            os._exit(0)\n        forked += 1\n"
                                + "    except OSError:\n        break\n",
                        List.of("assert 0 < forked < 32, forked"),
                        Outcome.PASSED));
        h.add(
                new Hostile(
                        "memory bomb",
                        "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))\n",
                        addTests,
                        Outcome.MEMORY_LIMIT));
        h.add(new Hostile("infinite loop", "while True:\n    pass\n", addTests, Outcome.TIMEOUT));
        h.add(
                new Hostile(
                        "CPU spin in threads",
                        "import threading\ndef spin():\n    while True:\n        pass\n"
                                + "for _ in range(8):\n    threading.Thread(target=spin, daemon=True).start()\n"
                                + "def add(a, b):\n    spin()\n",
                        addTests,
                        Outcome.TIMEOUT));
        h.add(
                new Hostile(
                        "long sleep past the limit",
                        "import time\ntime.sleep(3600)\n" + add,
                        addTests,
                        Outcome.TIMEOUT));
        h.add(
                new Hostile(
                        "sleep with SIGXCPU ignored",
                        "import signal, time\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass\n",
                        addTests,
                        Outcome.TIMEOUT));
        h.add(
                new Hostile(
                        "huge stdout",
                        "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
                        addTests,
                        Outcome.TIMEOUT,
                        r ->
                                assertThat(r.tests().get(0).output().length())
                                        .isLessThanOrEqualTo(4096)));
        h.add(
                new Hostile(
                        "huge stderr, then a correct answer",
                        "import sys\nfor _ in range(400):\n    sys.stderr.write('e' * 65536)\n"
                                + add,
                        addTests,
                        Outcome.PASSED,
                        r ->
                                assertThat(r.tests().get(0).output())
                                        .hasSizeLessThanOrEqualTo(4096)
                                        .startsWith("eee")));
        h.add(
                new Hostile(
                        "deep recursion",
                        "def f(n):\n    return f(n + 1)\nf(0)\n",
                        addTests,
                        Outcome.RUNTIME_ERROR,
                        r -> assertThat(r.tests().get(0).message()).contains("RecursionError")));
        h.add(
                new Hostile(
                        "disk filler",
                        "import os\ni = 0\nwhile True:\n    with open('fill%d' % i, 'wb') as f:\n"
                                + "        f.write(b'x' * (8 << 20))\n    i += 1\n",
                        addTests,
                        Outcome.RUNTIME_ERROR));

        // --- network ---
        h.add(
                new Hostile(
                        "network to a public address",
                        "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=1)\n"
                                + add,
                        addTests,
                        Outcome.RUNTIME_ERROR));
        h.add(
                new Hostile(
                        "DNS lookup",
                        "import socket\nsocket.getaddrinfo('example.com', 80)\n" + add,
                        addTests,
                        Outcome.RUNTIME_ERROR));

        // --- filesystem and secrets ---
        h.add(
                new Hostile(
                        "write outside the temp dir",
                        "for p in ('/usr/lib/owned', '/owned', '/tmp/owned', '/harness/owned', '/dev/shm/owned'):\n"
                                + "    try:\n        open(p, 'w').write('x')\n        written = p\n"
                                + "        break\n    except OSError:\n        written = None\n"
                                + add,
                        List.of("assert written is None, written"),
                        Outcome.PASSED));
        h.add(
                new Hostile(
                        "read /etc/shadow",
                        "data = open('/etc/shadow').read()\n" + add,
                        List.of("assert 'root' in data"),
                        Outcome.RUNTIME_ERROR));
        h.add(
                new Hostile(
                        "read the project's own files",
                        "data = open(" + pyString(projectFile) + ").read()\n" + add,
                        List.of("assert '<project' in data"),
                        Outcome.RUNTIME_ERROR));
        h.add(
                new Hostile(
                        "environment secrets",
                        "import os\nleaked = [k for k, v in os.environ.items() if 's3cr3t' in v or '"
                                + SECRET_VAR
                                + "' in k]\nprint(sorted(os.environ))\n",
                        List.of("assert leaked, 'nothing leaked'"),
                        Outcome.FAILED));
        h.add(
                new Hostile(
                        "read memory and fds through /proc",
                        "data = open('/proc/self/environ', 'rb').read() + open('/proc/1/cmdline', 'rb').read()\n",
                        List.of("assert data"),
                        Outcome.RUNTIME_ERROR));

        // --- processes and signals ---
        h.add(
                new Hostile(
                        "kill the parent",
                        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n" + add,
                        addTests,
                        Outcome.RUNTIME_ERROR,
                        r -> assertThat(r.tests().get(0).message()).contains("PermissionError")));
        // kill(-1) from a test reaches only processes of its own uid (never the harness, which is
        // root, nor bwrap's init), so the program carries on and its answer counts
        h.add(
                new Hostile(
                        "kill every process it can",
                        "import os, signal\nos.kill(-1, signal.SIGKILL)\n" + add,
                        addTests,
                        Outcome.PASSED));
        h.add(
                new Hostile(
                        "daemon left running",
                        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(600)\n"
                                + add,
                        addTests,
                        Outcome.PASSED));

        // --- reward hacks: ending the process with status 0 before the test statement completes
        // ---
        h.add(
                new Hostile(
                        "os._exit(0) early",
                        "import os\nos._exit(0)\n",
                        addTests,
                        Outcome.RUNTIME_ERROR));
        h.add(
                new Hostile(
                        "sys.exit(0) early",
                        "import sys\nsys.exit(0)\n",
                        addTests,
                        Outcome.RUNTIME_ERROR));
        h.add(
                new Hostile(
                        "exit 0 from atexit",
                        "import atexit, os\natexit.register(lambda: os._exit(0))\ndef add(a, b):\n    return 0\n",
                        addTests,
                        Outcome.FAILED));
        h.add(
                new Hostile(
                        "exit 0 from a signal handler",
                        "import os, signal, time\nsignal.signal(signal.SIGALRM, lambda *a: os._exit(0))\n"
                                + "signal.setitimer(signal.ITIMER_REAL, 0.05)\ndef add(a, b):\n    time.sleep(1)\n",
                        addTests,
                        Outcome.RUNTIME_ERROR));
        h.add(
                new Hostile(
                        "exit 0 from a thread",
                        "import os, threading, time\nthreading.Thread(target=lambda: (time.sleep(0.05), os._exit(0))).start()\n"
                                + "def add(a, b):\n    time.sleep(1)\n",
                        addTests,
                        Outcome.RUNTIME_ERROR));
        h.add(
                new Hostile(
                        "SystemExit(0) from the function",
                        "def add(a, b):\n    raise SystemExit(0)\n",
                        addTests,
                        Outcome.RUNTIME_ERROR));
        h.add(
                new Hostile(
                        "fake success markers",
                        "print('__PASS_RATE__ 1.0')\nprint('PASSED')\nimport sys\nsys.stderr.write('OK\\n')\n"
                                + "def add(a, b):\n    return 0\n",
                        addTests,
                        Outcome.FAILED));
        h.add(
                new Hostile(
                        "forged result records",
                        "import os\nfor fd in range(3, 20):\n    try:\n        os.write(fd, b'\\x00\\x01' + b'0' * 32 + b'\\nR T 0 PASSED 1 0 0\\n')\n"
                                + "    except OSError:\n        pass\ndef add(a, b):\n    return 0\n",
                        addTests,
                        Outcome.FAILED));

        // --- reward hacks: fooling the comparison ---
        h.add(
                new Hostile(
                        "__eq__ always True",
                        "class Any:\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n"
                                + "        return False\ndef add(a, b):\n    return Any()\n",
                        addTests,
                        Outcome.FAILED));
        h.add(
                new Hostile(
                        "int subclass whose __eq__ lies",
                        "class Int(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n"
                                + "def add(a, b):\n    return Int(0)\n",
                        addTests,
                        Outcome.FAILED));
        h.add(
                new Hostile(
                        "lying element inside a list",
                        "class Any:\n    def __eq__(self, other):\n        return True\ndef add(a, b):\n    return [Any()]\n",
                        List.of("assert add(1, 2) == [3]"),
                        Outcome.FAILED));
        h.add(
                new Hostile(
                        "always-true truth value",
                        "class Yes:\n    def __bool__(self):\n        return True\ndef is_even(n):\n    return Yes()\n",
                        List.of("assert is_even(4)", "assert is_even(3)"),
                        Outcome.FAILED));
        h.add(
                new Hostile(
                        "lying ordering for a tolerance check",
                        "class Tiny:\n    def __lt__(self, other):\n        return True\n    def __sub__(self, o):\n"
                                + "        return self\n    def __abs__(self):\n        return self\n"
                                + "def area(r):\n    return Tiny()\n",
                        List.of("assert abs(area(1) - 3.14159) < 1e-3"),
                        Outcome.FAILED));

        // --- reward hacks: monkeypatching ---
        h.add(
                new Hostile(
                        "monkeypatched builtins",
                        "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.len = lambda x: 3\n"
                                + "def area(r):\n    return 0\n",
                        List.of(
                                "assert abs(area(1) - 3.14159) < 1e-3",
                                "assert len([area(1)]) == 3"),
                        Outcome.FAILED));
        h.add(
                new Hostile(
                        "monkeypatched math.isclose",
                        "import math\nmath.isclose = lambda *a, **k: True\ndef area(r):\n    return 0\n",
                        List.of("import math; assert math.isclose(area(1), 3.14159)"),
                        Outcome.FAILED));
        h.add(
                new Hostile(
                        "monkeypatched AssertionError and exit functions",
                        "import builtins, os, sys\nbuiltins.AssertionError = type('Fake', (Exception,), {})\n"
                                + "os._exit = lambda *a: None\nos.write = lambda *a: None\nsys.exit = lambda *a: None\n"
                                + "def add(a, b):\n    return 0\n",
                        addTests,
                        Outcome.FAILED));
        h.add(
                new Hostile(
                        "monkeypatched harness",
                        "import sys\nfor c in object.__subclasses__():\n    if c.__module__ == 'harness':\n"
                                + "        for k in list(vars(c)):\n            try:\n"
                                + "                setattr(c, k, lambda *a, **kw: ('PASSED', 0, '', ''))\n"
                                + "            except Exception:\n                pass\n"
                                + "h = sys.modules.get('harness')\nif h:\n    for k in list(vars(h)):\n"
                                + "        if callable(getattr(h, k)):\n            setattr(h, k, lambda *a, **kw: None)\n"
                                + "def add(a, b):\n    return 0\n",
                        addTests,
                        Outcome.FAILED));

        // --- reward hacks: reading the tests or the nonce ---
        h.add(
                new Hostile(
                        "read the tests from arguments, files, stdin and environment",
                        "import os, sys, glob\nseen = ' '.join(sys.argv) + ' '.join(os.environ.values()) + sys.stdin.read()\n"
                                + "for top in os.listdir('/'):\n"
                                + "    if top in ('usr', 'lib', 'lib64', 'bin', 'sbin', 'dev', 'sys', 'proc'):\n        continue\n"
                                + "    for p in glob.glob('/' + top + '/**', recursive=True):\n"
                                + "        try:\n            seen += open(p, errors='ignore').read()\n"
                                + "        except OSError:\n            pass\n"
                                + "import re\nfound = re.findall(r'add\\(1, 2\\) == (\\d+)', seen)\n"
                                + "def add(a, b):\n    return int(found[0]) if found else 0\n",
                        addTests,
                        Outcome.FAILED));
        h.add(
                new Hostile(
                        "find the nonce through frames",
                        "import os, sys\ndef steal():\n    frames = []\n    try:\n        frames.append(sys._getframe(1))\n"
                                + "    except Exception:\n        pass\n    try:\n        raise ValueError\n"
                                + "    except ValueError as e:\n        try:\n            frames.append(e.__traceback__.tb_frame)\n"
                                + "        except Exception:\n            pass\n    for f in frames:\n        while f:\n"
                                + "            for v in f.f_locals.values():\n"
                                + "                if isinstance(v, bytes) and len(v) == 32:\n"
                                + "                    os.write(3, v)\n                    os._exit(0)\n"
                                + "            f = f.f_back\ndef add(a, b):\n    steal()\n    return 0\n",
                        addTests,
                        Outcome.FAILED));
        h.add(
                new Hostile(
                        "find the nonce with gc and ctypes",
                        "import os\ntry:\n    import gc\n    for o in gc.get_objects():\n"
                                + "        if isinstance(o, bytes) and len(o) == 32:\n            os.write(3, o)\n"
                                + "except RuntimeError:\n    pass\ntry:\n    import ctypes\nexcept ImportError:\n    pass\n"
                                + "def add(a, b):\n    return 0\n",
                        addTests,
                        Outcome.FAILED));
        h.add(
                new Hostile(
                        "tracing to skip the assertion",
                        "import sys\nsys.settrace(lambda *a: None)\n" + add,
                        addTests,
                        Outcome.RUNTIME_ERROR));
        h.add(
                new Hostile(
                        "crafted byte code",
                        "import marshal\ncode = marshal.loads(b'\\xe3' + bytes(40))\n" + add,
                        addTests,
                        Outcome.RUNTIME_ERROR));
        return h.stream();
    }

    private static String pyString(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostilePrograms")
    void shouldContainTheProgramWithTheRightOutcome(Hostile hostile) {
        // when
        ExecutionResult r =
                engine.execute(new ExecutionRequest(py(hostile.code()), hostile.tests()));

        // then
        assertThat(r.outcome()).as("%s: %s", hostile.name(), r).isEqualTo(hostile.expected());
        if (hostile.expected() != Outcome.PASSED) {
            assertThat(r.codeReward()).isEqualTo(0.0);
        }
        hostile.check().accept(r);
    }

    @Test
    void shouldHaveAtLeastTwentyFiveHostilePrograms() {
        assertThat(hostilePrograms().count()).isGreaterThanOrEqualTo(25);
        assertThat(System.getenv(SECRET_VAR)).as("the secret the suite looks for").isNotBlank();
    }

    @Test
    void shouldNotReachAServerOfTheHostOnLoopback() throws IOException {
        // given a server listening on the host's 127.0.0.1
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String code =
                    "import socket\ns = socket.create_connection(('127.0.0.1', "
                            + server.getLocalPort()
                            + "), timeout=1)\n";

            // when
            ExecutionResult r = engine.execute(new ExecutionRequest(py(code), List.of("assert s")));

            // then the sandbox has its own, empty loopback
            assertThat(r.outcome()).isEqualTo(Outcome.RUNTIME_ERROR);
            assertThat(r.tests().get(0).message()).contains("ConnectionRefusedError");
        }
    }

    @Test
    void shouldNotLetAFilePlantedByOneExecutionReachTheNext() {
        // given an execution that writes everywhere it can, under names the next one looks for
        String plant =
                "import os\nfor d in ('.', os.environ.get('HOME', '.'), os.environ.get('TMPDIR', '.'),"
                        + " '/tmp', '/dev/shm', '/tmp/w1', '/tmp/w2', '/tmp/w3'):\n"
                        + "    for n in ('planted', '../planted'):\n        try:\n"
                        + "            open(os.path.join(d, n), 'w').write('x')\n"
                        + "        except OSError:\n            pass\n";
        engine.execute(new ExecutionRequest(py(plant), List.of("pass", "pass")));

        // when a later execution looks for them
        String look =
                "import glob, os\nfound = [p for top in os.listdir('/')"
                        + " if top not in ('usr', 'lib', 'lib64', 'bin', 'sbin', 'proc', 'sys')"
                        + " for p in glob.glob('/' + top + '/**/planted*', recursive=True)]\n";
        ExecutionResult r =
                engine.execute(new ExecutionRequest(py(look), List.of("assert not found, found")));

        // then none is visible
        assertThat(r.outcome()).as(r.toString()).isEqualTo(Outcome.PASSED);
    }

    @Test
    void shouldGiveTheCallerAFreshSandboxEvenAfterAKillAll() {
        // when a program kills every process it may, then a correct program runs
        engine.execute(
                new ExecutionRequest(
                        py("import os, signal\nos.kill(-1, signal.SIGKILL)\n"), List.of("pass")));
        ExecutionResult r =
                engine.execute(
                        new ExecutionRequest(
                                py("def add(a, b):\n    return a + b\n"),
                                List.of("assert add(1, 2) == 3")));

        // then
        assertThat(r.outcome()).isEqualTo(Outcome.PASSED);
        assertThat(r.attempt()).isEqualTo(1);
    }
}
