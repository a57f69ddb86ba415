package dev.diffustream.policy.tasks.builtin;

import dev.diffustream.policy.tasks.builtin.PyExpr.BinOp;
import dev.diffustream.policy.tasks.builtin.PyExpr.Call;
import dev.diffustream.policy.tasks.builtin.PyExpr.Comp;
import dev.diffustream.policy.tasks.builtin.PyExpr.Const;
import dev.diffustream.policy.tasks.builtin.PyExpr.IfElse;
import dev.diffustream.policy.tasks.builtin.PyExpr.ListDisplay;
import dev.diffustream.policy.tasks.builtin.PyExpr.Method;
import dev.diffustream.policy.tasks.builtin.PyExpr.Name;
import dev.diffustream.policy.tasks.builtin.PyExpr.Neg;
import dev.diffustream.policy.tasks.builtin.PyExpr.Slice;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * The task families of the built-in suite and their primitives.
 *
 * <p>Every task combines two primitives of its family, one per slot: a <em>composition</em> is the
 * pair of slot indices (i, j). The primitive lists below are part of the suite's definition: their
 * order decides which compositions are held out (see {@link BuiltinSuite}). Constants are single
 * digits so that the length of a reference solution depends only on the composition and the names.
 */
final class Families {

    private Families() {}

    /** The kind of the single argument of a task's function. */
    enum Kind {
        INT,
        STR,
        LIST
    }

    /** The names a task uses: function, parameter, and comprehension variable. */
    record Names(String function, String param, String loopVar) {}

    /**
     * A primitive with its constants drawn: how it rewrites an expression and how the docstring
     * says it.
     */
    record Step(String op, Transform transform, String phrase) {
        PyExpr apply(PyExpr e, Names names) {
            return transform.apply(e, names);
        }
    }

    @FunctionalInterface
    interface Transform {
        PyExpr apply(PyExpr e, Names names);
    }

    /** A primitive operation: a name and how to draw its constants. */
    record Prim(String name, Function<SplittableRandom, Step> draw) {}

    /**
     * One drafted task before its tests are chosen.
     *
     * @param body the returned expression
     * @param docstring the behaviour, stated precisely
     * @param operations the primitive names, slot order
     * @param nearMisses plausible wrong bodies the tests should reject when some input tells them
     *     apart
     * @param hintInts integers worth having among the test inputs (the task's constants)
     * @param hintChars characters worth having in string inputs
     * @param essential how many of the first near misses the tests must reject: a draft where one
     *     of them equals the reference on every candidate input is degenerate (a branch or a
     *     condition that never matters) and is redrawn
     */
    record Draft(
            PyExpr body,
            String docstring,
            List<String> operations,
            List<PyExpr> nearMisses,
            List<Long> hintInts,
            List<String> hintChars,
            int essential) {}

    /** A family: two slots of primitives and how a composition becomes a task. */
    abstract static class Family {
        final String name;
        final Kind kind;
        final List<String> firstSlot;
        final List<String> secondSlot;

        Family(String name, Kind kind, List<String> firstSlot, List<String> secondSlot) {
            this.name = name;
            this.kind = kind;
            this.firstSlot = List.copyOf(firstSlot);
            this.secondSlot = List.copyOf(secondSlot);
        }

        /** Whether (i, j) is a composition at all (before the length budget). */
        abstract boolean allowed(int i, int j);

        /** Drafts a task of composition (i, j) with the given names, drawing constants from rng. */
        abstract Draft draft(int i, int j, Names names, SplittableRandom rng);
    }

    // ---- primitives ---------------------------------------------------------------------------

    private static long between(SplittableRandom rng, long lo, long hi) {
        return lo + rng.nextLong(hi - lo + 1);
    }

    /**
     * A primitive with one integer constant k in [lo, hi]. In the phrase, {@code %d} is k and a
     * trailing {@code (s)} on a word is a plural ending dropped when k is 1.
     */
    private static Prim intPrim(
            String name, long lo, long hi, String phraseFormat, Function<Long, Transform> t) {
        return new Prim(
                name,
                rng -> {
                    long k = between(rng, lo, hi);
                    String phrase =
                            String.format(Locale.ROOT, phraseFormat, k)
                                    .replace("(s)", k == 1 ? "" : "s");
                    return new Step(name, t.apply(k), phrase);
                });
    }

    private static Prim fixedPrim(String name, String phrase, Transform t) {
        return new Prim(name, rng -> new Step(name, t, phrase));
    }

    /** Integer operations: arithmetic chains, the branch of a conditional, the body of a loop. */
    static final List<Prim> INT_OPS =
            List.of(
                    intPrim("add", 1, 9, "plus %d", k -> (e, n) -> new BinOp("+", e, Const.of(k))),
                    intPrim("sub", 1, 9, "minus %d", k -> (e, n) -> new BinOp("-", e, Const.of(k))),
                    intPrim(
                            "mul",
                            2,
                            9,
                            "multiplied by %d",
                            k -> (e, n) -> new BinOp("*", e, Const.of(k))),
                    intPrim(
                            "floordiv",
                            2,
                            9,
                            "floor-divided by %d",
                            k -> (e, n) -> new BinOp("//", e, Const.of(k))),
                    intPrim(
                            "mod",
                            2,
                            9,
                            "modulo %d",
                            k -> (e, n) -> new BinOp("%", e, Const.of(k))),
                    fixedPrim("square", "squared", (e, n) -> new BinOp("**", e, Const.of(2))),
                    fixedPrim("neg", "negated", (e, n) -> new Neg(e)),
                    fixedPrim("abs", "made absolute", (e, n) -> new Call("abs", List.of(e))),
                    intPrim(
                            "min",
                            0,
                            9,
                            "capped at %d",
                            k -> (e, n) -> new Call("min", List.of(e, Const.of(k)))),
                    intPrim(
                            "max",
                            0,
                            9,
                            "raised to at least %d",
                            k -> (e, n) -> new Call("max", List.of(e, Const.of(k)))));

    /**
     * Integer predicates: the test of a conditional, the parts of a logic task. Phrases lack the
     * subject.
     */
    static final List<Prim> CONDITIONS =
            List.of(
                    intPrim(
                            "gt",
                            0,
                            9,
                            "is greater than %d",
                            k -> (e, n) -> new BinOp(">", e, Const.of(k))),
                    intPrim(
                            "lt",
                            0,
                            9,
                            "is less than %d",
                            k -> (e, n) -> new BinOp("<", e, Const.of(k))),
                    intPrim(
                            "ge",
                            0,
                            9,
                            "is at least %d",
                            k -> (e, n) -> new BinOp(">=", e, Const.of(k))),
                    intPrim(
                            "eq",
                            0,
                            9,
                            "equals %d",
                            k -> (e, n) -> new BinOp("==", e, Const.of(k))),
                    fixedPrim(
                            "even",
                            "is even",
                            (e, n) -> new BinOp("==", new BinOp("%", e, Const.of(2)), Const.of(0))),
                    fixedPrim(
                            "odd",
                            "is odd",
                            (e, n) -> new BinOp("==", new BinOp("%", e, Const.of(2)), Const.of(1))),
                    intPrim(
                            "divisible",
                            3,
                            9,
                            "is divisible by %d",
                            k ->
                                    (e, n) ->
                                            new BinOp(
                                                    "==",
                                                    new BinOp("%", e, Const.of(k)),
                                                    Const.of(0))));

    private static final String LETTERS = "abcdefghijklmnopqrstuvwxyz";
    private static final String VOWELS = "aeiou";

    private static String letters(SplittableRandom rng, int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append(LETTERS.charAt(rng.nextInt(LETTERS.length())));
        }
        return sb.toString();
    }

    private static Method method(PyExpr e, String name, PyExpr... args) {
        return new Method(e, name, List.of(args));
    }

    /** String operations (chains over a str). */
    static final List<Prim> STR_OPS =
            List.of(
                    fixedPrim("upper", "in upper case", (e, n) -> method(e, "upper")),
                    fixedPrim("lower", "in lower case", (e, n) -> method(e, "lower")),
                    fixedPrim("swapcase", "with its case swapped", (e, n) -> method(e, "swapcase")),
                    fixedPrim("capitalize", "capitalized", (e, n) -> method(e, "capitalize")),
                    fixedPrim("reverse", "reversed", (e, n) -> new Slice(e, null, null, -1L)),
                    intPrim(
                            "take",
                            1,
                            4,
                            "cut to its first %d char(s)",
                            k -> (e, n) -> new Slice(e, null, k, null)),
                    intPrim(
                            "drop",
                            1,
                            3,
                            "without its first %d char(s)",
                            k -> (e, n) -> new Slice(e, k, null, null)),
                    intPrim(
                            "last",
                            1,
                            4,
                            "cut to its last %d char(s)",
                            k -> (e, n) -> new Slice(e, -k, null, null)),
                    intPrim(
                            "repeat",
                            2,
                            3,
                            "repeated %d times",
                            k -> (e, n) -> new BinOp("*", e, Const.of(k))),
                    new Prim(
                            "suffix",
                            rng -> {
                                String lit = letters(rng, 2);
                                return new Step(
                                        "suffix",
                                        (e, n) -> new BinOp("+", e, new Const(lit)),
                                        "followed by '" + lit + "'");
                            }),
                    new Prim(
                            "prefix",
                            rng -> {
                                String lit = letters(rng, 2);
                                return new Step(
                                        "prefix",
                                        (e, n) -> new BinOp("+", new Const(lit), e),
                                        "preceded by '" + lit + "'");
                            }),
                    new Prim(
                            "replace",
                            rng -> {
                                String from = String.valueOf(VOWELS.charAt(rng.nextInt(5)));
                                String to;
                                do {
                                    to = letters(rng, 1);
                                } while (to.equals(from));
                                String target = to;
                                return new Step(
                                        "replace",
                                        (e, n) ->
                                                method(
                                                        e,
                                                        "replace",
                                                        new Const(from),
                                                        new Const(target)),
                                        "with every '" + from + "' replaced by '" + to + "'");
                            }));

    /** List operations (chains over a list of ints). */
    static final List<Prim> LIST_OPS =
            List.of(
                    fixedPrim("sort", "sorted", (e, n) -> new Call("sorted", List.of(e))),
                    fixedPrim("reverse", "reversed", (e, n) -> new Slice(e, null, null, -1L)),
                    intPrim(
                            "take",
                            1,
                            4,
                            "cut to its first %d item(s)",
                            k -> (e, n) -> new Slice(e, null, k, null)),
                    intPrim(
                            "drop",
                            1,
                            3,
                            "without its first %d item(s)",
                            k -> (e, n) -> new Slice(e, k, null, null)),
                    intPrim(
                            "last",
                            1,
                            4,
                            "cut to its last %d item(s)",
                            k -> (e, n) -> new Slice(e, -k, null, null)),
                    fixedPrim(
                            "even_positions",
                            "reduced to its even-index items",
                            (e, n) -> new Slice(e, null, null, 2L)),
                    intPrim(
                            "append",
                            0,
                            9,
                            "with %d appended",
                            k ->
                                    (e, n) ->
                                            new BinOp(
                                                    "+", e, new ListDisplay(List.of(Const.of(k))))),
                    intPrim(
                            "prepend",
                            0,
                            9,
                            "with %d prepended",
                            k ->
                                    (e, n) ->
                                            new BinOp(
                                                    "+", new ListDisplay(List.of(Const.of(k))), e)),
                    intPrim(
                            "map_add",
                            1,
                            9,
                            "with %d added to each item",
                            k ->
                                    (e, n) ->
                                            new Comp(
                                                    new BinOp(
                                                            "+",
                                                            new Name(n.loopVar()),
                                                            Const.of(k)),
                                                    n.loopVar(),
                                                    e,
                                                    null,
                                                    false)),
                    intPrim(
                            "map_mul",
                            2,
                            9,
                            "with each item multiplied by %d",
                            k ->
                                    (e, n) ->
                                            new Comp(
                                                    new BinOp(
                                                            "*",
                                                            new Name(n.loopVar()),
                                                            Const.of(k)),
                                                    n.loopVar(),
                                                    e,
                                                    null,
                                                    false)));

    /** Aggregations of the loops family: primitive names, Python builtins and docstring words. */
    static final List<String> AGGREGATE_OPS = List.of("sum_of", "max_of", "min_of");

    private static final List<String> AGGREGATES = List.of("sum", "max", "min");

    private static final List<String> AGGREGATE_WORDS = List.of("sum", "maximum", "minimum");

    private static List<String> names(List<Prim> prims) {
        List<String> out = new ArrayList<>(prims.size());
        for (Prim p : prims) {
            out.add(p.name());
        }
        return out;
    }

    // ---- families -----------------------------------------------------------------------------

    /** Two operations of the same kind applied one after the other: {@code op2(op1(x))}. */
    static final class Chain extends Family {
        private final List<Prim> ops;
        private final Function<String, String> subject;

        Chain(String name, Kind kind, List<Prim> ops, Function<String, String> subject) {
            super(name, kind, names(ops), names(ops));
            this.ops = ops;
            this.subject = subject;
        }

        @Override
        boolean allowed(int i, int j) {
            return i != j;
        }

        @Override
        Draft draft(int i, int j, Names names, SplittableRandom rng) {
            Step first = ops.get(i).draw().apply(rng);
            Step second = ops.get(j).draw().apply(rng);
            PyExpr x = new Name(names.param());
            PyExpr body = second.apply(first.apply(x, names), names);
            String doc =
                    "Return "
                            + subject.apply(names.param())
                            + " "
                            + first.phrase()
                            + " then "
                            + second.phrase()
                            + ".";
            // The identity must be rejected (e.g. "plus 3 then minus 3" is degenerate).
            List<PyExpr> nearMisses =
                    List.of(
                            x,
                            first.apply(x, names),
                            second.apply(x, names),
                            first.apply(second.apply(x, names), names));
            return new Draft(
                    body,
                    doc,
                    List.of(first.op(), second.op()),
                    nearMisses,
                    constants(body),
                    stringConstants(body),
                    1);
        }
    }

    /** {@code then(x) if cond(x) else other}: a condition and a branch operation. */
    static final class Conditional extends Family {
        Conditional() {
            super("conditionals", Kind.INT, names(CONDITIONS), names(INT_OPS));
        }

        @Override
        boolean allowed(int i, int j) {
            return true;
        }

        @Override
        Draft draft(int i, int j, Names names, SplittableRandom rng) {
            Step cond = CONDITIONS.get(i).draw().apply(rng);
            Step then = INT_OPS.get(j).draw().apply(rng);
            PyExpr x = new Name(names.param());
            PyExpr orElse;
            String elsePhrase;
            if (rng.nextBoolean()) {
                orElse = x;
                elsePhrase = names.param();
            } else {
                long c = between(rng, 0, 9);
                orElse = Const.of(c);
                elsePhrase = Long.toString(c);
            }
            PyExpr thenExpr = then.apply(x, names);
            PyExpr condExpr = cond.apply(x, names);
            PyExpr body = new IfElse(thenExpr, condExpr, orElse);
            String p = names.param();
            String doc =
                    "Return "
                            + p
                            + " "
                            + then.phrase()
                            + " if "
                            + p
                            + " "
                            + cond.phrase()
                            + ", otherwise "
                            + elsePhrase
                            + ".";
            // The identity, and each branch alone, must be rejected: both branches matter.
            List<PyExpr> nearMisses =
                    List.of(x, thenExpr, orElse, new IfElse(orElse, condExpr, thenExpr));
            return new Draft(
                    body,
                    doc,
                    List.of(cond.op(), then.op()),
                    nearMisses,
                    constants(body),
                    List.of(),
                    3);
        }
    }

    /** {@code agg(op(v) for v in xs)}: an aggregation over the items of a list. */
    static final class Loop extends Family {
        Loop() {
            super("loops", Kind.LIST, AGGREGATE_OPS, names(INT_OPS));
        }

        @Override
        boolean allowed(int i, int j) {
            return true;
        }

        @Override
        Draft draft(int i, int j, Names names, SplittableRandom rng) {
            Step op = INT_OPS.get(j).draw().apply(rng);
            PyExpr element = op.apply(new Name(names.loopVar()), names);
            PyExpr xs = new Name(names.param());
            PyExpr body = aggregate(AGGREGATES.get(i), element, names, xs);
            String doc =
                    "Return the "
                            + AGGREGATE_WORDS.get(i)
                            + " of the items of "
                            + names.param()
                            + ", each "
                            + op.phrase()
                            + ".";
            List<PyExpr> nearMisses = new ArrayList<>();
            for (int other = 0; other < AGGREGATES.size(); other++) {
                if (other != i) {
                    nearMisses.add(aggregate(AGGREGATES.get(other), element, names, xs));
                }
            }
            nearMisses.add(new Call(AGGREGATES.get(i), List.of(xs)));
            return new Draft(
                    body,
                    doc,
                    List.of(AGGREGATE_OPS.get(i), op.op()),
                    nearMisses,
                    constants(body),
                    List.of(),
                    0);
        }

        private static PyExpr aggregate(String fn, PyExpr element, Names names, PyExpr xs) {
            return new Call(fn, List.of(new Comp(element, names.loopVar(), xs, null, true)));
        }
    }

    private static final Set<Set<String>> DEGENERATE_LOGIC_PAIRS =
            Set.of(Set.of("even", "odd"), Set.of("gt", "ge"));

    /** {@code c1(x) and/or c2(x)}: two conditions joined by a connective. */
    static final class Logic extends Family {
        Logic() {
            super("logic", Kind.INT, names(CONDITIONS), names(CONDITIONS));
        }

        /**
         * Distinct conditions, except pairs where one condition always decides: "even" with "odd"
         * (always false with and, always true with or), "gt" with "ge" (two lower bounds: the
         * stricter decides with and, the looser with or).
         */
        @Override
        boolean allowed(int i, int j) {
            return i != j
                    && !DEGENERATE_LOGIC_PAIRS.contains(
                            Set.of(firstSlot.get(i), secondSlot.get(j)));
        }

        @Override
        Draft draft(int i, int j, Names names, SplittableRandom rng) {
            Step c1 = CONDITIONS.get(i).draw().apply(rng);
            Step c2 = CONDITIONS.get(j).draw().apply(rng);
            String connective = rng.nextBoolean() ? "and" : "or";
            String other = connective.equals("and") ? "or" : "and";
            PyExpr x = new Name(names.param());
            PyExpr e1 = c1.apply(x, names);
            PyExpr e2 = c2.apply(x, names);
            PyExpr body = new BinOp(connective, e1, e2);
            String p = names.param();
            String doc =
                    "Return whether "
                            + p
                            + " "
                            + c1.phrase()
                            + " "
                            + connective
                            + " "
                            + p
                            + " "
                            + c2.phrase()
                            + ".";
            return new Draft(
                    body,
                    doc,
                    List.of(c1.op(), c2.op()),
                    List.of(e1, e2, new BinOp(other, e1, e2)),
                    constants(body),
                    List.of(),
                    2);
        }
    }

    /** The families in suite order (task i of a split belongs to family i mod 6). */
    static final List<Family> ALL =
            List.of(
                    new Chain("arithmetic", Kind.INT, INT_OPS, p -> p),
                    new Chain("strings", Kind.STR, STR_OPS, p -> p),
                    new Chain("lists", Kind.LIST, LIST_OPS, p -> p),
                    new Conditional(),
                    new Loop(),
                    new Logic());

    /** The integer constants of an expression tree (hints for test inputs). */
    static List<Long> constants(PyExpr e) {
        List<Long> out = new ArrayList<>();
        collect(e, out, null);
        return out;
    }

    /** The string constants of an expression tree (hints for string test inputs). */
    static List<String> stringConstants(PyExpr e) {
        List<String> out = new ArrayList<>();
        collect(e, null, out);
        return out;
    }

    private static void collect(PyExpr e, List<Long> ints, List<String> strs) {
        if (e instanceof Const c) {
            if (c.value() instanceof Long l && ints != null) {
                ints.add(l);
            } else if (c.value() instanceof String s && strs != null) {
                strs.add(s);
            }
        } else if (e instanceof BinOp b) {
            collect(b.left(), ints, strs);
            collect(b.right(), ints, strs);
        } else if (e instanceof Neg n) {
            collect(n.operand(), ints, strs);
        } else if (e instanceof Call c) {
            c.args().forEach(a -> collect(a, ints, strs));
        } else if (e instanceof Method m) {
            collect(m.receiver(), ints, strs);
            m.args().forEach(a -> collect(a, ints, strs));
        } else if (e instanceof Slice s) {
            collect(s.target(), ints, strs);
        } else if (e instanceof Comp c) {
            collect(c.element(), ints, strs);
            collect(c.iterable(), ints, strs);
            if (c.condition() != null) {
                collect(c.condition(), ints, strs);
            }
        } else if (e instanceof IfElse f) {
            collect(f.then(), ints, strs);
            collect(f.condition(), ints, strs);
            collect(f.orElse(), ints, strs);
        } else if (e instanceof ListDisplay l) {
            l.items().forEach(a -> collect(a, ints, strs));
        }
    }
}
