package dev.diffustream.policy.tasks.builtin;

import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.CodeTasks;
import dev.diffustream.policy.tasks.DiffuCoderPrompts;
import dev.diffustream.policy.tasks.TaskSplit;
import dev.diffustream.policy.tasks.TaskSuite;
import dev.diffustream.policy.tasks.builtin.Families.Draft;
import dev.diffustream.policy.tasks.builtin.Families.Family;
import dev.diffustream.policy.tasks.builtin.Families.Kind;
import dev.diffustream.policy.tasks.builtin.Families.Names;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The built-in suite: a deterministic, seeded generator of small Python function tasks for the tiny
 * policy (issue 3 item 8a).
 *
 * <p><b>Tasks.</b> Each task asks for a one-line function {@code def f(x): return <expr>} whose
 * behaviour the docstring states precisely ("Return x multiplied by 3 then plus 2."). The prompt is
 * the "complete the following problem" format of spec C.3 (built by {@link
 * DiffuCoderPrompts#completeProblem}); it contains a fenced block, so spec C.4 appends no test
 * case. The hidden tests are 4–6 statements {@code assert f(<input>) == <expected>}; the expected
 * values come from a Java evaluator of the same expression tree that renders the reference solution
 * ({@link PyExpr}), and the inputs are chosen so that the tests reject plausible near misses (one
 * operation alone, the two in swapped order, the other aggregation, ...) wherever an input tells
 * them apart. Degenerate draws are redrawn: a chain or conditional the identity function would pass
 * ("plus 3 then minus 3"), a conditional where one branch never matters, a logic task where one
 * condition never matters, a test set whose expected values are all equal.
 *
 * <p><b>Families and compositions.</b> Six families, each combining two primitives (see {@link
 * Families}): {@code arithmetic} (two integer operations in sequence), {@code strings} (two string
 * operations), {@code lists} (two list operations), {@code conditionals} (a condition × the
 * operation of the true branch), {@code loops} (an aggregation sum/max/min × the operation applied
 * to every item, as a generator expression), {@code logic} (two conditions joined by and/or). A
 * composition is a pair of primitive indices (i, j) into the family's two slot lists. Same-kind
 * families never pair a primitive with itself, and logic leaves out even/odd and gt/ge (one
 * condition always decides).
 *
 * <p><b>Held-out rule.</b> Composition (i, j) is held out iff {@code (i + j) mod 5 == 2}. The rule
 * is symmetric, so for same-kind families the unordered pair is held out: neither "a then b" nor "b
 * then a" is seen in training. The rule does not depend on the seed. Every primitive of a held-out
 * composition appears in training in the same slot (checked at construction), so held-out tasks
 * test composition, not unseen primitives. Constants and names are drawn from the same ranges in
 * both splits.
 *
 * <p><b>Length budget.</b> A completion is {@code "```python\n" + reference + "\n```\n"} plus the
 * EOS token: 16 tokens around the reference for a character-level tokenizer, so a reference may
 * have at most {@link #MAX_REFERENCE_CHARS} = 64 − 16 = 48 characters. Compositions that cannot fit
 * even with the shortest names are not part of the catalogue; long names are redrawn or shortened.
 *
 * <p><b>Order and ids.</b> Task {@code k} of a split belongs to family {@code k mod 6}; it cycles
 * through that family's compositions of the split in a seeded order; its content comes from an RNG
 * keyed by (seed, split, k), so ids ({@code builtin/train/00042}) are stable and a larger count
 * only appends tasks. Prompts are unique within a split. A composition without constants ({@code
 * loops:max_of+square}) has only as many prompts as name choices; once one has none left, its turns
 * go to the next composition of the family's order, and a split ends where a whole family has none
 * left (about 24,000 train tasks for seed 42; the default is 3,000).
 */
public final class BuiltinSuite implements TaskSuite {

    /** Suite name, {@link CodeTask#source()} of every task. */
    public static final String NAME = "builtin";

    public static final long DEFAULT_SEED = 42;
    public static final int DEFAULT_TRAIN_COUNT = 3000;
    public static final int DEFAULT_HELDOUT_COUNT = 300;

    /** Completion budget of the tiny policy, in (character-level) tokens, EOS included. */
    public static final int MAX_COMPLETION_TOKENS = 64;

    /** Tokens of a completion besides the reference: the two fences and the EOS token. */
    public static final int COMPLETION_OVERHEAD =
            CodeTasks.PYTHON_FENCE_OPEN.length() + CodeTasks.PYTHON_FENCE_CLOSE.length() + 1;

    /** Longest reference solution, in characters (48). */
    public static final int MAX_REFERENCE_CHARS = MAX_COMPLETION_TOKENS - COMPLETION_OVERHEAD;

    /**
     * Held-out rule: composition (i, j) is held out iff (i + j) mod this == {@link
     * #HELDOUT_RESIDUE}.
     */
    public static final int HELDOUT_MODULUS = 5;

    public static final int HELDOUT_RESIDUE = 2;

    private static final List<String> FUNCTION_NAMES =
            List.of("f", "g", "h", "fn", "op", "run", "calc", "func", "solve", "apply");
    private static final List<String> INT_PARAMS = List.of("x", "n", "y", "v", "m", "num", "val");
    private static final List<String> STR_PARAMS = List.of("s", "t", "w", "txt", "word", "text");
    private static final List<String> LIST_PARAMS =
            List.of("xs", "ns", "lst", "nums", "vals", "arr");
    private static final List<String> LOOP_VARS = List.of("v", "i", "e", "y", "t", "z");

    private static final int MAX_ATTEMPTS = 400;
    private static final int POOL_SIZE = 40;
    private static final int FEASIBILITY_DRAWS = 24;
    private static final long FEASIBILITY_SEED = 0x5EED_F00DL;

    /** One composition of the catalogue and the split it belongs to. */
    public record Composition(String family, List<String> operations, TaskSplit split) {
        public Composition {
            operations = List.copyOf(operations);
        }

        /** {@code family:op1+op2}, as {@link BuiltinTask#composition()}. */
        public String key() {
            return family + ":" + String.join("+", operations);
        }
    }

    private record Pair(int first, int second) {}

    /** The catalogue: feasible compositions per family and split. Independent of the seed. */
    private static final List<Map<TaskSplit, List<Pair>>> CATALOGUE = buildCatalogue();

    private final long seed;
    private final int trainCount;
    private final int heldoutCount;
    private final Map<TaskSplit, List<BuiltinTask>> cache = new EnumMap<>(TaskSplit.class);

    /** The default suite: seed 42, 3000 train and 300 held-out tasks. */
    public BuiltinSuite() {
        this(DEFAULT_SEED);
    }

    public BuiltinSuite(long seed) {
        this(seed, DEFAULT_TRAIN_COUNT, DEFAULT_HELDOUT_COUNT);
    }

    public BuiltinSuite(long seed, int trainCount, int heldoutCount) {
        if (trainCount < 0 || heldoutCount < 0) {
            throw new IllegalArgumentException(
                    "task counts must be >= 0, got train="
                            + trainCount
                            + " heldout="
                            + heldoutCount);
        }
        this.seed = seed;
        this.trainCount = trainCount;
        this.heldoutCount = heldoutCount;
    }

    @Override
    public String name() {
        return NAME;
    }

    public long seed() {
        return seed;
    }

    @Override
    public List<CodeTask> load(TaskSplit split) {
        List<BuiltinTask> tasks = tasks(split);
        List<CodeTask> out = new ArrayList<>(tasks.size());
        for (BuiltinTask t : tasks) {
            out.add(t.task());
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * The tasks of a split with their metadata.
     *
     * @throws IllegalArgumentException for {@link TaskSplit#TEST}: the built-in suite has train and
     *     held-out splits only
     */
    public synchronized List<BuiltinTask> tasks(TaskSplit split) {
        if (split == TaskSplit.TEST) {
            throw new IllegalArgumentException(
                    "the builtin suite has splits TRAIN and HELDOUT, not " + split);
        }
        return cache.computeIfAbsent(split, this::generate);
    }

    /** The family names, in suite order. */
    public static List<String> families() {
        List<String> out = new ArrayList<>();
        for (Family f : Families.ALL) {
            out.add(f.name);
        }
        return out;
    }

    /** Whether composition (i, j) (slot indices) is held out: {@code (i + j) mod 5 == 2}. */
    public static boolean isHeldOut(int first, int second) {
        return (first + second) % HELDOUT_MODULUS == HELDOUT_RESIDUE;
    }

    /** Every feasible composition of every family with its split, in catalogue order. */
    public static List<Composition> compositions() {
        List<Composition> out = new ArrayList<>();
        for (int f = 0; f < Families.ALL.size(); f++) {
            Family family = Families.ALL.get(f);
            for (TaskSplit split : List.of(TaskSplit.TRAIN, TaskSplit.HELDOUT)) {
                for (Pair p : CATALOGUE.get(f).get(split)) {
                    out.add(
                            new Composition(
                                    family.name,
                                    List.of(
                                            family.firstSlot.get(p.first()),
                                            family.secondSlot.get(p.second())),
                                    split));
                }
            }
        }
        return out;
    }

    // ---- generation ---------------------------------------------------------------------------

    private List<BuiltinTask> generate(TaskSplit split) {
        int count = split == TaskSplit.TRAIN ? trainCount : heldoutCount;
        int families = Families.ALL.size();
        List<List<Pair>> order = new ArrayList<>();
        for (int f = 0; f < families; f++) {
            List<Pair> pairs = new ArrayList<>(CATALOGUE.get(f).get(split));
            shuffle(pairs, rng(seed, 1_000 + f, split.ordinal()));
            order.add(pairs);
        }
        Set<String> prompts = new HashSet<>();
        List<Set<Pair>> exhausted = new ArrayList<>();
        for (int f = 0; f < families; f++) {
            exhausted.add(new HashSet<>());
        }
        List<BuiltinTask> tasks = new ArrayList<>(count);
        for (int k = 0; k < count; k++) {
            int f = k % families;
            List<Pair> pairs = order.get(f);
            BuiltinTask task = null;
            // A composition without constants has only as many distinct prompts as name
            // choices; once it has no new one, task k takes the next one in the family's order.
            for (int step = 0; task == null && step < pairs.size(); step++) {
                Pair pair = pairs.get((k / families + step) % pairs.size());
                if (exhausted.get(f).contains(pair)) {
                    continue;
                }
                task = generateTask(seed, split, k, Families.ALL.get(f), pair, prompts);
                if (task == null) {
                    exhausted.get(f).add(pair);
                }
            }
            if (task == null) {
                throw new IllegalArgumentException(
                        String.format(
                                Locale.ROOT,
                                "the builtin suite (seed %d) holds at most %d %s tasks: every %s"
                                        + " composition has used up its distinct prompts at"
                                        + " index %d; ask for at most %d",
                                seed,
                                k,
                                split.name().toLowerCase(Locale.ROOT),
                                Families.ALL.get(f).name,
                                k,
                                k));
            }
            prompts.add(task.task().prompt());
            tasks.add(task);
        }
        return Collections.unmodifiableList(tasks);
    }

    /**
     * Task {@code index} of composition {@code pair}, with a prompt not in {@code taken}; null if
     * {@link #MAX_ATTEMPTS} draws found none.
     */
    private static BuiltinTask generateTask(
            long seed, TaskSplit split, int index, Family family, Pair pair, Set<String> taken) {
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            SplittableRandom rng = rng(seed, split.ordinal(), index, attempt);
            Names names = drawNames(family.kind, rng);
            Draft draft = family.draft(pair.first(), pair.second(), names, rng);
            if (reference(names, draft).length() > MAX_REFERENCE_CHARS) {
                names = shortestNames(family.kind);
                draft = family.draft(pair.first(), pair.second(), names, rng);
                if (reference(names, draft).length() > MAX_REFERENCE_CHARS) {
                    continue;
                }
            }
            List<String> tests = chooseTests(family.kind, names, draft, rng);
            if (tests == null) {
                continue;
            }
            String signature = names.function() + "(" + names.param() + ")";
            String question = DiffuCoderPrompts.completeProblem(signature, draft.docstring());
            String prompt = DiffuCoderPrompts.userPrompt(question, tests);
            if (taken.contains(prompt)) {
                continue;
            }
            String id =
                    String.format(
                            Locale.ROOT,
                            "%s/%s/%05d",
                            NAME,
                            split.name().toLowerCase(Locale.ROOT),
                            index);
            CodeTask task =
                    new CodeTask(
                            id,
                            prompt,
                            tests,
                            names.function(),
                            null,
                            reference(names, draft),
                            NAME,
                            split,
                            family.name);
            return new BuiltinTask(task, draft.operations(), signature, draft.docstring());
        }
        return null;
    }

    private static String reference(Names names, Draft draft) {
        return "def "
                + names.function()
                + "("
                + names.param()
                + "):\n    return "
                + draft.body().render();
    }

    private static Names drawNames(Kind kind, SplittableRandom rng) {
        String function = pick(FUNCTION_NAMES, rng);
        String param = pick(params(kind), rng);
        String loopVar;
        do {
            loopVar = pick(LOOP_VARS, rng);
        } while (loopVar.equals(param) || loopVar.equals(function));
        return new Names(function, param, loopVar);
    }

    private static Names shortestNames(Kind kind) {
        return new Names(FUNCTION_NAMES.get(0), params(kind).get(0), LOOP_VARS.get(0));
    }

    private static List<String> params(Kind kind) {
        switch (kind) {
            case INT:
                return INT_PARAMS;
            case STR:
                return STR_PARAMS;
            case LIST:
                return LIST_PARAMS;
            default:
                throw new IllegalArgumentException(String.valueOf(kind));
        }
    }

    /**
     * Picks 4–6 inputs: first, for each near miss the tests do not reject yet, an input where it
     * differs from the reference; then random ones. Returns {@code null} if the inputs cannot make
     * a useful test set (too few valid inputs, or every expected value equal).
     */
    private static List<String> chooseTests(
            Kind kind, Names names, Draft draft, SplittableRandom rng) {
        List<Object> valid = new ArrayList<>();
        List<Object> expected = new ArrayList<>();
        for (Object input : inputPool(kind, draft, rng)) {
            Object out = evalOrNull(draft.body(), names, input);
            if (out != null && reasonable(out)) {
                valid.add(input);
                expected.add(out);
            }
        }
        if (valid.size() < 6) {
            return null;
        }
        int n = 4 + rng.nextInt(3);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < valid.size(); i++) {
            order.add(i);
        }
        shuffle(order, rng);
        List<Integer> chosen = new ArrayList<>();
        for (int m = 0; m < draft.nearMisses().size(); m++) {
            PyExpr miss = draft.nearMisses().get(m);
            boolean rejected = false;
            for (int c : chosen) {
                rejected |= differs(miss, names, valid.get(c), expected.get(c));
            }
            for (int i = 0; i < order.size() && !rejected; i++) {
                int c = order.get(i);
                if (differs(miss, names, valid.get(c), expected.get(c))) {
                    chosen.add(c);
                    rejected = true;
                }
            }
            if (!rejected && m < draft.essential()) {
                return null;
            }
        }
        for (int c : order) {
            if (chosen.size() >= n) {
                break;
            }
            if (!chosen.contains(c)) {
                chosen.add(c);
            }
        }
        Set<Object> distinct = new HashSet<>();
        for (int c : chosen) {
            distinct.add(expected.get(c));
        }
        if (distinct.size() < 2) {
            return null;
        }
        shuffle(chosen, rng);
        List<String> tests = new ArrayList<>(chosen.size());
        for (int c : chosen) {
            tests.add(
                    "assert "
                            + names.function()
                            + "("
                            + PyValues.repr(valid.get(c))
                            + ") == "
                            + PyValues.repr(expected.get(c)));
        }
        return tests;
    }

    private static Object evalOrNull(PyExpr body, Names names, Object input) {
        try {
            return body.eval(Map.of(names.param(), input));
        } catch (PyEvalException e) {
            return null;
        }
    }

    /**
     * Whether {@code assert f(input) == expected} fails for this body (raising counts as failing).
     */
    private static boolean differs(PyExpr body, Names names, Object input, Object expected) {
        Object out = evalOrNull(body, names, input);
        return out == null || !PyValues.pyEquals(out, expected);
    }

    private static boolean reasonable(Object out) {
        if (out instanceof Long l) {
            return Math.abs(l) <= 100_000;
        }
        if (out instanceof String s) {
            return s.length() <= 30;
        }
        if (out instanceof List<?> list) {
            return list.size() <= 12;
        }
        return out instanceof Boolean;
    }

    private static List<Object> inputPool(Kind kind, Draft draft, SplittableRandom rng) {
        Set<Object> pool = new LinkedHashSet<>();
        switch (kind) {
            case INT:
                for (long k : draft.hintInts()) {
                    for (long d = -1; d <= 1; d++) {
                        if (Math.abs(k + d) <= 20) {
                            pool.add(k + d);
                        }
                    }
                }
                for (int i = 0; i < POOL_SIZE; i++) {
                    pool.add(-12 + rng.nextLong(33));
                }
                break;
            case STR:
                List<String> hintChars = new ArrayList<>();
                for (String s : draft.hintChars()) {
                    if (s.length() == 1) {
                        hintChars.add(s);
                    }
                }
                for (int i = 0; i < POOL_SIZE; i++) {
                    int len = 2 + rng.nextInt(6);
                    StringBuilder sb = new StringBuilder(len);
                    for (int c = 0; c < len; c++) {
                        char ch = (char) ('a' + rng.nextInt(26));
                        sb.append(rng.nextInt(4) == 0 ? Character.toUpperCase(ch) : ch);
                    }
                    if (!hintChars.isEmpty() && i % 2 == 0) {
                        sb.insert(rng.nextInt(len + 1), pick(hintChars, rng));
                    }
                    pool.add(sb.toString());
                }
                break;
            case LIST:
                for (int i = 0; i < POOL_SIZE; i++) {
                    int len = 1 + rng.nextInt(6);
                    List<Object> list = new ArrayList<>(len);
                    for (int c = 0; c < len; c++) {
                        list.add(-9 + rng.nextLong(29));
                    }
                    pool.add(Collections.unmodifiableList(list));
                }
                break;
            default:
                throw new IllegalArgumentException(String.valueOf(kind));
        }
        return new ArrayList<>(pool);
    }

    // ---- catalogue ----------------------------------------------------------------------------

    private static List<Map<TaskSplit, List<Pair>>> buildCatalogue() {
        List<Map<TaskSplit, List<Pair>>> catalogue = new ArrayList<>();
        for (int f = 0; f < Families.ALL.size(); f++) {
            Family family = Families.ALL.get(f);
            Map<TaskSplit, List<Pair>> bySplit = new EnumMap<>(TaskSplit.class);
            bySplit.put(TaskSplit.TRAIN, new ArrayList<>());
            bySplit.put(TaskSplit.HELDOUT, new ArrayList<>());
            for (int i = 0; i < family.firstSlot.size(); i++) {
                for (int j = 0; j < family.secondSlot.size(); j++) {
                    if (family.allowed(i, j) && fits(f, family, i, j)) {
                        bySplit.get(isHeldOut(i, j) ? TaskSplit.HELDOUT : TaskSplit.TRAIN)
                                .add(new Pair(i, j));
                    }
                }
            }
            checkCoverage(family, bySplit);
            catalogue.add(bySplit);
        }
        return catalogue;
    }

    /**
     * A composition fits if every draw of its constants fits the budget with the shortest names.
     */
    private static boolean fits(int f, Family family, int i, int j) {
        SplittableRandom rng = rng(FEASIBILITY_SEED, f, i, j);
        Names names = shortestNames(family.kind);
        for (int d = 0; d < FEASIBILITY_DRAWS; d++) {
            if (reference(names, family.draft(i, j, names, rng)).length() > MAX_REFERENCE_CHARS) {
                return false;
            }
        }
        return true;
    }

    private static void checkCoverage(Family family, Map<TaskSplit, List<Pair>> bySplit) {
        Set<Integer> trainFirst = new HashSet<>();
        Set<Integer> trainSecond = new HashSet<>();
        for (Pair p : bySplit.get(TaskSplit.TRAIN)) {
            trainFirst.add(p.first());
            trainSecond.add(p.second());
        }
        for (Pair p : bySplit.get(TaskSplit.HELDOUT)) {
            if (!trainFirst.contains(p.first()) || !trainSecond.contains(p.second())) {
                throw new IllegalStateException(
                        "family "
                                + family.name
                                + ": held-out composition "
                                + family.firstSlot.get(p.first())
                                + "+"
                                + family.secondSlot.get(p.second())
                                + " uses a primitive never seen in that slot in training");
            }
        }
        if (bySplit.get(TaskSplit.TRAIN).isEmpty() || bySplit.get(TaskSplit.HELDOUT).isEmpty()) {
            throw new IllegalStateException(
                    "family " + family.name + " has an empty split: " + bySplit);
        }
    }

    // ---- randomness ---------------------------------------------------------------------------

    private static SplittableRandom rng(long seed, long... parts) {
        long h = mix(seed ^ 0x9E3779B97F4A7C15L);
        for (long p : parts) {
            h = mix(h ^ mix(p + 0x632BE59BD9B4E019L));
        }
        return new SplittableRandom(h);
    }

    /** SplitMix64's finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static <T> T pick(List<T> items, SplittableRandom rng) {
        return items.get(rng.nextInt(items.size()));
    }

    private static <T> void shuffle(List<T> items, SplittableRandom rng) {
        for (int i = items.size() - 1; i > 0; i--) {
            Collections.swap(items, i, rng.nextInt(i + 1));
        }
    }
}
