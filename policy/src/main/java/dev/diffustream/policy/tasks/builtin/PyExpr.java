package dev.diffustream.policy.tasks.builtin;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A small Python expression tree: one node renders to Python source ({@link #render()}) and
 * evaluates with Python semantics ({@link #eval(Map)}), so the reference solution and the expected
 * values of its tests come from the same object. Rendering inserts parentheses only where Python's
 * precedence requires them.
 */
sealed interface PyExpr {

    // Python precedence levels, lowest binding first.
    int IFEXP = 1;
    int OR = 2;
    int AND = 3;
    int CMP = 5;
    int ADD = 6;
    int MUL = 7;
    int UNARY = 8;
    int POWER = 9;
    int ATOM = 10;

    /** Python source text. */
    String render();

    /** Precedence level of the outermost construct. */
    int precedence();

    /** Evaluates with the given variable bindings. */
    Object eval(Map<String, Object> env);

    private static String wrap(PyExpr e, boolean parens) {
        return parens ? "(" + e.render() + ")" : e.render();
    }

    /** A variable. */
    record Name(String id) implements PyExpr {
        public String render() {
            return id;
        }

        public int precedence() {
            return ATOM;
        }

        public Object eval(Map<String, Object> env) {
            Object v = env.get(id);
            if (v == null) {
                throw new IllegalStateException("unbound name " + id);
            }
            return v;
        }
    }

    /** A literal (int, str, bool or list). */
    record Const(Object value) implements PyExpr {
        public Const {
            Objects.requireNonNull(value, "value");
        }

        static Const of(long v) {
            return new Const(v);
        }

        public String render() {
            return PyValues.repr(value);
        }

        public int precedence() {
            return value instanceof Long l && l < 0 ? UNARY : ATOM;
        }

        public Object eval(Map<String, Object> env) {
            return value;
        }
    }

    /** A binary operator: arithmetic, comparison, {@code and}, {@code or}. */
    record BinOp(String op, PyExpr left, PyExpr right) implements PyExpr {
        public int precedence() {
            switch (op) {
                case "or":
                    return OR;
                case "and":
                    return AND;
                case "==":
                case "!=":
                case "<":
                case "<=":
                case ">":
                case ">=":
                    return CMP;
                case "+":
                case "-":
                    return ADD;
                case "*":
                case "//":
                case "%":
                    return MUL;
                case "**":
                    return POWER;
                default:
                    throw new IllegalArgumentException("unknown operator " + op);
            }
        }

        public String render() {
            int p = precedence();
            boolean leftParens;
            boolean rightParens;
            if (p == POWER) {
                // Right-associative and binds tighter than unary minus on its left: -x ** 2 is -(x
                // ** 2).
                leftParens = left.precedence() <= POWER;
                rightParens = right.precedence() < UNARY;
            } else if (p == CMP) {
                // Comparisons chain (a < b < c), so a comparison operand is always parenthesised.
                leftParens = left.precedence() <= CMP;
                rightParens = right.precedence() <= CMP;
            } else {
                leftParens = left.precedence() < p;
                rightParens = right.precedence() <= p;
            }
            return wrap(left, leftParens) + " " + op + " " + wrap(right, rightParens);
        }

        public Object eval(Map<String, Object> env) {
            if (op.equals("and")) {
                Object l = left.eval(env);
                return PyValues.truthy(l) ? right.eval(env) : l;
            }
            if (op.equals("or")) {
                Object l = left.eval(env);
                return PyValues.truthy(l) ? l : right.eval(env);
            }
            return PyValues.binary(op, left.eval(env), right.eval(env));
        }
    }

    /** Unary minus. */
    record Neg(PyExpr operand) implements PyExpr {
        public String render() {
            return "-" + wrap(operand, operand.precedence() < UNARY);
        }

        public int precedence() {
            return UNARY;
        }

        public Object eval(Map<String, Object> env) {
            return PyValues.negate(operand.eval(env));
        }
    }

    /** A call of a builtin; a sole generator-expression argument is written without brackets. */
    record Call(String function, List<PyExpr> args) implements PyExpr {
        public Call {
            args = List.copyOf(args);
            for (PyExpr a : args) {
                if (a instanceof Comp c && c.generator() && args.size() != 1) {
                    throw new IllegalArgumentException(
                            "a bare generator must be the sole argument");
                }
            }
        }

        public String render() {
            return function
                    + "("
                    + args.stream().map(PyExpr::render).collect(Collectors.joining(", "))
                    + ")";
        }

        public int precedence() {
            return ATOM;
        }

        public Object eval(Map<String, Object> env) {
            List<Object> values = new ArrayList<>(args.size());
            for (PyExpr a : args) {
                values.add(a.eval(env));
            }
            return PyValues.call(function, values);
        }
    }

    /** A method call {@code receiver.name(args)}. */
    record Method(PyExpr receiver, String name, List<PyExpr> args) implements PyExpr {
        public Method {
            args = List.copyOf(args);
        }

        public String render() {
            return wrap(
                            receiver,
                            receiver.precedence() < ATOM
                                    || receiver instanceof Const c && c.value() instanceof Long)
                    + "."
                    + name
                    + "("
                    + args.stream().map(PyExpr::render).collect(Collectors.joining(", "))
                    + ")";
        }

        public int precedence() {
            return ATOM;
        }

        public Object eval(Map<String, Object> env) {
            List<Object> values = new ArrayList<>(args.size());
            for (PyExpr a : args) {
                values.add(a.eval(env));
            }
            return PyValues.method(receiver.eval(env), name, values);
        }
    }

    /** A slice {@code target[start:stop:step]}; {@code null} bounds are omitted. */
    record Slice(PyExpr target, Long start, Long stop, Long step) implements PyExpr {
        public String render() {
            return wrap(target, target.precedence() < ATOM)
                    + "["
                    + (start == null ? "" : start)
                    + ":"
                    + (stop == null ? "" : stop)
                    + (step == null ? "" : ":" + step)
                    + "]";
        }

        public int precedence() {
            return ATOM;
        }

        public Object eval(Map<String, Object> env) {
            return PyValues.slice(target.eval(env), start, stop, step);
        }
    }

    /**
     * A list comprehension {@code [element for var in iterable if condition]}, or, with {@code
     * generator}, a generator expression (only as the sole argument of a call).
     */
    record Comp(PyExpr element, String var, PyExpr iterable, PyExpr condition, boolean generator)
            implements PyExpr {
        public String render() {
            String body =
                    wrap(element, element.precedence() <= IFEXP)
                            + " for "
                            + var
                            + " in "
                            + wrap(iterable, iterable.precedence() <= IFEXP)
                            + (condition == null
                                    ? ""
                                    : " if " + wrap(condition, condition.precedence() <= IFEXP));
            return generator ? body : "[" + body + "]";
        }

        public int precedence() {
            return ATOM;
        }

        public Object eval(Map<String, Object> env) {
            List<Object> out = new ArrayList<>();
            for (Object item : PyValues.iterable(iterable.eval(env))) {
                Map<String, Object> inner = new HashMap<>(env);
                inner.put(var, item);
                if (condition == null || PyValues.truthy(condition.eval(inner))) {
                    out.add(element.eval(inner));
                }
            }
            return java.util.Collections.unmodifiableList(out);
        }
    }

    /** A conditional expression {@code then if condition else orElse}. */
    record IfElse(PyExpr then, PyExpr condition, PyExpr orElse) implements PyExpr {
        public String render() {
            return wrap(then, then.precedence() <= IFEXP)
                    + " if "
                    + wrap(condition, condition.precedence() <= IFEXP)
                    + " else "
                    + wrap(orElse, orElse.precedence() < IFEXP);
        }

        public int precedence() {
            return IFEXP;
        }

        public Object eval(Map<String, Object> env) {
            return PyValues.truthy(condition.eval(env)) ? then.eval(env) : orElse.eval(env);
        }
    }

    /** A list display {@code [a, b]}. */
    record ListDisplay(List<PyExpr> items) implements PyExpr {
        public ListDisplay {
            items = List.copyOf(items);
        }

        public String render() {
            return "[" + items.stream().map(PyExpr::render).collect(Collectors.joining(", ")) + "]";
        }

        public int precedence() {
            return ATOM;
        }

        public Object eval(Map<String, Object> env) {
            List<Object> out = new ArrayList<>(items.size());
            for (PyExpr i : items) {
                out.add(i.eval(env));
            }
            return java.util.Collections.unmodifiableList(out);
        }
    }
}
