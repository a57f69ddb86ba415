package dev.diffustream.policy.tasks.builtin;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Python semantics for the values the built-in tasks use, modelled in Java: {@code int} as {@link
 * Long} (overflow raises {@link PyEvalException} instead of growing), {@code str} as {@link String}
 * (ASCII only), {@code bool} as {@link Boolean}, {@code list} as an unmodifiable {@link List}.
 *
 * <p>Floor division and modulo follow Python (the result of {@code %} has the sign of the divisor),
 * slices follow CPython's index adjustment, and {@link #repr} prints values as Python literals.
 */
final class PyValues {

    private PyValues() {}

    /** Python {@code repr} of a value (the form used in generated tests). */
    static String repr(Object value) {
        if (value instanceof Boolean b) {
            return b ? "True" : "False";
        }
        if (value instanceof Long l) {
            return Long.toString(l);
        }
        if (value instanceof String s) {
            return strRepr(s);
        }
        if (value instanceof List<?> list) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    sb.append(", ");
                }
                sb.append(repr(list.get(i)));
            }
            return sb.append(']').toString();
        }
        throw new IllegalArgumentException("no Python repr for " + describe(value));
    }

    /**
     * Python's {@code repr(str)} for ASCII text: single quotes unless only double quotes avoid
     * escapes.
     */
    static String strRepr(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(quote);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == quote || c == '\\') {
                sb.append('\\').append(c);
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c == '\r') {
                sb.append("\\r");
            } else if (c == '\t') {
                sb.append("\\t");
            } else if (c < 0x20 || c == 0x7f) {
                sb.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
            } else if (c > 0x7f) {
                throw new IllegalArgumentException("non-ASCII text is not supported: " + s);
            } else {
                sb.append(c);
            }
        }
        return sb.append(quote).toString();
    }

    static boolean truthy(Object v) {
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Long l) {
            return l != 0;
        }
        if (v instanceof String s) {
            return !s.isEmpty();
        }
        if (v instanceof List<?> list) {
            return !list.isEmpty();
        }
        throw new PyEvalException("no truth value for " + describe(v));
    }

    /** A binary operator other than {@code and}/{@code or} (those short-circuit in the AST). */
    static Object binary(String op, Object l, Object r) {
        switch (op) {
            case "+":
                if (l instanceof Long a && r instanceof Long b) {
                    return exact(() -> Math.addExact(a, b));
                }
                if (l instanceof String a && r instanceof String b) {
                    return a + b;
                }
                if (l instanceof List<?> a && r instanceof List<?> b) {
                    List<Object> out = new ArrayList<>(a);
                    out.addAll(b);
                    return Collections.unmodifiableList(out);
                }
                break;
            case "-":
                if (l instanceof Long a && r instanceof Long b) {
                    return exact(() -> Math.subtractExact(a, b));
                }
                break;
            case "*":
                if (l instanceof Long a && r instanceof Long b) {
                    return exact(() -> Math.multiplyExact(a, b));
                }
                if (l instanceof String a && r instanceof Long n) {
                    return n <= 0 ? "" : a.repeat(Math.toIntExact(n));
                }
                if (l instanceof List<?> a && r instanceof Long n) {
                    List<Object> out = new ArrayList<>();
                    for (long i = 0; i < n; i++) {
                        out.addAll(a);
                    }
                    return Collections.unmodifiableList(out);
                }
                break;
            case "//":
                if (l instanceof Long a && r instanceof Long b) {
                    if (b == 0) {
                        throw new PyEvalException("ZeroDivisionError");
                    }
                    if (a == Long.MIN_VALUE && b == -1) {
                        throw new PyEvalException("overflow");
                    }
                    return Math.floorDiv(a, b);
                }
                break;
            case "%":
                if (l instanceof Long a && r instanceof Long b) {
                    if (b == 0) {
                        throw new PyEvalException("ZeroDivisionError");
                    }
                    return Math.floorMod(a, b);
                }
                break;
            case "**":
                if (l instanceof Long a && r instanceof Long b) {
                    if (b < 0) {
                        throw new PyEvalException("negative exponent gives a float");
                    }
                    long result = 1;
                    for (long i = 0; i < b; i++) {
                        final long acc = result;
                        result = exact(() -> Math.multiplyExact(acc, a));
                    }
                    return result;
                }
                break;
            case "==":
                return pyEquals(l, r);
            case "!=":
                return !pyEquals(l, r);
            case "<":
                return compare(l, r) < 0;
            case "<=":
                return compare(l, r) <= 0;
            case ">":
                return compare(l, r) > 0;
            case ">=":
                return compare(l, r) >= 0;
            default:
                throw new IllegalArgumentException("unknown operator " + op);
        }
        throw new PyEvalException(
                "TypeError: " + describe(l) + " " + op + " " + describe(r) + " is not supported");
    }

    static boolean pyEquals(Object l, Object r) {
        if (l instanceof Boolean || r instanceof Boolean) {
            // Python: True == 1, False == 0.
            if ((l instanceof Boolean || l instanceof Long)
                    && (r instanceof Boolean || r instanceof Long)) {
                return asLong(l) == asLong(r);
            }
            return false;
        }
        return l.equals(r);
    }

    static int compare(Object l, Object r) {
        if ((l instanceof Long || l instanceof Boolean)
                && (r instanceof Long || r instanceof Boolean)) {
            return Long.compare(asLong(l), asLong(r));
        }
        if (l instanceof String a && r instanceof String b) {
            return a.compareTo(b); // ASCII: UTF-16 order is code-point order
        }
        if (l instanceof List<?> a && r instanceof List<?> b) {
            for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
                if (!pyEquals(a.get(i), b.get(i))) {
                    return compare(a.get(i), b.get(i));
                }
            }
            return Integer.compare(a.size(), b.size());
        }
        throw new PyEvalException("TypeError: cannot order " + describe(l) + " and " + describe(r));
    }

    static long asLong(Object v) {
        if (v instanceof Long l) {
            return l;
        }
        if (v instanceof Boolean b) {
            return b ? 1 : 0;
        }
        throw new PyEvalException("TypeError: expected an int, got " + describe(v));
    }

    static long negate(Object v) {
        long a = asLong(v);
        return exact(() -> Math.negateExact(a));
    }

    /** A call of one of the builtins the tasks use. */
    static Object call(String function, List<Object> args) {
        switch (function) {
            case "abs":
                {
                    long a = asLong(single(function, args));
                    return exact(() -> Math.absExact(a));
                }
            case "min":
            case "max":
                {
                    List<?> items = args.size() == 1 ? iterable(args.get(0)) : args;
                    if (items.isEmpty()) {
                        throw new PyEvalException(
                                "ValueError: " + function + "() of empty sequence");
                    }
                    Object best = items.get(0);
                    for (Object item : items) {
                        int c = compare(item, best);
                        // Python keeps the first of equal extremes.
                        if (function.equals("min") ? c < 0 : c > 0) {
                            best = item;
                        }
                    }
                    return best;
                }
            case "sum":
                {
                    long total = 0;
                    for (Object item : iterable(single(function, args))) {
                        long acc = total;
                        long add = asLong(item);
                        total = exact(() -> Math.addExact(acc, add));
                    }
                    return total;
                }
            case "len":
                {
                    Object v = single(function, args);
                    if (v instanceof String s) {
                        return (long) s.length();
                    }
                    return (long) iterable(v).size();
                }
            case "sorted":
                {
                    List<Object> out = new ArrayList<>(iterable(single(function, args)));
                    out.sort(PyValues::compare);
                    return Collections.unmodifiableList(out);
                }
            default:
                throw new IllegalArgumentException("unknown builtin " + function);
        }
    }

    /** A method call on a value (only {@code str} methods are used). */
    static Object method(Object receiver, String name, List<Object> args) {
        if (!(receiver instanceof String s)) {
            throw new PyEvalException(
                    "AttributeError: " + describe(receiver) + " has no method " + name);
        }
        requireAscii(s);
        switch (name) {
            case "upper":
                return s.toUpperCase(Locale.ROOT);
            case "lower":
                return s.toLowerCase(Locale.ROOT);
            case "swapcase":
                {
                    StringBuilder sb = new StringBuilder(s.length());
                    for (char c : s.toCharArray()) {
                        sb.append(
                                Character.isUpperCase(c)
                                        ? Character.toLowerCase(c)
                                        : Character.toUpperCase(c));
                    }
                    return sb.toString();
                }
            case "capitalize":
                return s.isEmpty()
                        ? s
                        : s.substring(0, 1).toUpperCase(Locale.ROOT)
                                + s.substring(1).toLowerCase(Locale.ROOT);
            case "replace":
                {
                    String old = (String) args.get(0);
                    String replacement = (String) args.get(1);
                    if (old.isEmpty()) {
                        throw new IllegalArgumentException("empty pattern is not modelled");
                    }
                    return s.replace(old, replacement);
                }
            default:
                throw new IllegalArgumentException("unknown str method " + name);
        }
    }

    /** {@code target[start:stop:step]} for a str or a list, with CPython's index adjustment. */
    static Object slice(Object target, Long start, Long stop, Long step) {
        int len;
        if (target instanceof String s) {
            len = s.length();
        } else if (target instanceof List<?> list) {
            len = list.size();
        } else {
            throw new PyEvalException("TypeError: " + describe(target) + " is not subscriptable");
        }
        long st = step == null ? 1 : step;
        if (st == 0) {
            throw new PyEvalException("ValueError: slice step cannot be zero");
        }
        long lo = adjust(start, len, st, true);
        long hi = adjust(stop, len, st, false);
        List<Integer> indices = new ArrayList<>();
        for (long i = lo; st > 0 ? i < hi : i > hi; i += st) {
            indices.add((int) i);
        }
        if (target instanceof String s) {
            StringBuilder sb = new StringBuilder();
            for (int i : indices) {
                sb.append(s.charAt(i));
            }
            return sb.toString();
        }
        List<?> list = (List<?>) target;
        List<Object> out = new ArrayList<>(indices.size());
        for (int i : indices) {
            out.add(list.get(i));
        }
        return Collections.unmodifiableList(out);
    }

    /** CPython {@code PySlice_Unpack} + {@code PySlice_AdjustIndices} for one bound. */
    private static long adjust(Long bound, int len, long step, boolean isStart) {
        if (bound == null) {
            if (isStart) {
                return step < 0 ? len - 1 : 0;
            }
            return step < 0 ? -1 : len;
        }
        long b = bound;
        if (b < 0) {
            b += len;
            if (b < 0) {
                b = step < 0 ? -1 : 0;
            }
        } else if (b >= len) {
            b = step < 0 ? len - 1 : len;
        }
        return b;
    }

    static List<?> iterable(Object v) {
        if (v instanceof List<?> list) {
            return list;
        }
        if (v instanceof String s) {
            List<Object> chars = new ArrayList<>(s.length());
            for (char c : s.toCharArray()) {
                chars.add(String.valueOf(c));
            }
            return chars;
        }
        throw new PyEvalException("TypeError: " + describe(v) + " is not iterable");
    }

    private static Object single(String function, List<Object> args) {
        if (args.size() != 1) {
            throw new IllegalArgumentException(function + "() takes one argument here");
        }
        return args.get(0);
    }

    private static void requireAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0x7f) {
                throw new PyEvalException("non-ASCII text is not modelled");
            }
        }
    }

    private interface LongOp {
        long get();
    }

    private static long exact(LongOp op) {
        try {
            return op.get();
        } catch (ArithmeticException e) {
            throw new PyEvalException("integer outside the modelled range");
        }
    }

    static String describe(Object v) {
        return v == null ? "None" : v.getClass().getSimpleName() + " " + v;
    }
}
