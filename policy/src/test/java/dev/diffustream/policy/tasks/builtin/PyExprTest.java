package dev.diffustream.policy.tasks.builtin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Rendering (parentheses exactly where Python needs them) and Python semantics of the evaluator.
 */
class PyExprTest {

    private static final Name X = new Name("x");

    private static Object eval(PyExpr e, Object x) {
        return e.eval(Map.of("x", x));
    }

    @Test
    void shouldParenthesiseOnlyWherePrecedenceRequires() {
        // given x * 3 + 2 versus (x + 2) * 3
        PyExpr mulThenAdd = new BinOp("+", new BinOp("*", X, Const.of(3)), Const.of(2));
        PyExpr addThenMul = new BinOp("*", new BinOp("+", X, Const.of(2)), Const.of(3));
        // then
        assertThat(mulThenAdd.render()).isEqualTo("x * 3 + 2");
        assertThat(addThenMul.render()).isEqualTo("(x + 2) * 3");
        // left-associative operators keep a right operand of equal precedence in parentheses
        assertThat(new BinOp("-", X, new BinOp("-", X, Const.of(1))).render())
                .isEqualTo("x - (x - 1)");
        assertThat(new BinOp("-", new BinOp("-", X, Const.of(1)), X).render())
                .isEqualTo("x - 1 - x");
    }

    @Test
    void shouldRenderPowerAndUnaryMinusLikePython() {
        // -x ** 2 is -(x ** 2) in Python, so negating a square needs no parentheses ...
        assertThat(new Neg(new BinOp("**", X, Const.of(2))).render()).isEqualTo("-x ** 2");
        // ... but squaring a negation does
        assertThat(new BinOp("**", new Neg(X), Const.of(2)).render()).isEqualTo("(-x) ** 2");
        assertThat(new Neg(new BinOp("*", X, Const.of(3))).render()).isEqualTo("-(x * 3)");
        // (-x) * 3 == -(x * 3) in value, and Python parses -x * 3 as (-x) * 3
        assertThat(new BinOp("*", new Neg(X), Const.of(3)).render()).isEqualTo("-x * 3");
        assertThat(eval(new Neg(new BinOp("**", X, Const.of(2))), 3L)).isEqualTo(-9L);
        assertThat(eval(new BinOp("**", new Neg(X), Const.of(2)), 3L)).isEqualTo(9L);
    }

    @Test
    void shouldRenderPostfixOperationsOnCompoundReceiversInParentheses() {
        PyExpr s = new Name("s");
        PyExpr concat = new BinOp("+", s, new Const("ab"));
        assertThat(new Method(concat, "upper", List.of()).render()).isEqualTo("(s + 'ab').upper()");
        assertThat(new Slice(new Method(s, "upper", List.of()), null, null, -1L).render())
                .isEqualTo("s.upper()[::-1]");
        assertThat(new Slice(s, -2L, null, null).render()).isEqualTo("s[-2:]");
        assertThat(new Slice(s, null, 3L, null).render()).isEqualTo("s[:3]");
        assertThat(new BinOp("*", new Slice(s, 1L, null, null), Const.of(2)).render())
                .isEqualTo("s[1:] * 2");
    }

    @Test
    void shouldRenderComprehensionsConditionalsAndComparisons() {
        PyExpr xs = new Name("xs");
        Comp gen = new Comp(new BinOp("*", new Name("v"), Const.of(3)), "v", xs, null, true);
        assertThat(new Call("sum", List.of(gen)).render()).isEqualTo("sum(v * 3 for v in xs)");
        Comp list =
                new Comp(
                        new BinOp("+", new Name("v"), Const.of(1)),
                        "v",
                        new Slice(xs, null, null, -1L),
                        null,
                        false);
        assertThat(list.render()).isEqualTo("[v + 1 for v in xs[::-1]]");
        PyExpr even = new BinOp("==", new BinOp("%", X, Const.of(2)), Const.of(0));
        assertThat(new IfElse(new BinOp("*", X, Const.of(2)), even, X).render())
                .isEqualTo("x * 2 if x % 2 == 0 else x");
        assertThat(new BinOp("or", even, new BinOp(">", X, Const.of(3))).render())
                .isEqualTo("x % 2 == 0 or x > 3");
        assertThat(
                        new BinOp(
                                        "+",
                                        new ListDisplay(List.of(Const.of(4))),
                                        new Call("sorted", List.of(xs)))
                                .render())
                .isEqualTo("[4] + sorted(xs)");
    }

    @Test
    void shouldFloorDivideAndModuloLikePython() {
        // Python: -7 // 2 == -4, -7 % 3 == 2, 7 % -3 == -2, -3 % 2 == 1 (odd test works for
        // negatives)
        assertThat(PyValues.binary("//", -7L, 2L)).isEqualTo(-4L);
        assertThat(PyValues.binary("%", -7L, 3L)).isEqualTo(2L);
        assertThat(PyValues.binary("%", 7L, -3L)).isEqualTo(-2L);
        assertThat(PyValues.binary("%", -3L, 2L)).isEqualTo(1L);
        assertThatThrownBy(() -> PyValues.binary("//", 1L, 0L))
                .isInstanceOf(PyEvalException.class)
                .hasMessageContaining("ZeroDivisionError");
        assertThatThrownBy(() -> PyValues.binary("*", Long.MAX_VALUE, 2L))
                .isInstanceOf(PyEvalException.class);
    }

    @Test
    void shouldSliceLikeCPython() {
        // "abcdef"[-2:] == "ef", [:10] clamps, [::-1] reverses, [::2] == "ace", [5:2] == ""
        assertThat(PyValues.slice("abcdef", -2L, null, null)).isEqualTo("ef");
        assertThat(PyValues.slice("abc", null, 10L, null)).isEqualTo("abc");
        assertThat(PyValues.slice("abc", -10L, null, null)).isEqualTo("abc");
        assertThat(PyValues.slice("abcdef", null, null, -1L)).isEqualTo("fedcba");
        assertThat(PyValues.slice("abcdef", null, null, 2L)).isEqualTo("ace");
        assertThat(PyValues.slice("abcdef", 5L, 2L, null)).isEqualTo("");
        assertThat(PyValues.slice(List.of(1L, 2L, 3L), 1L, null, null)).isEqualTo(List.of(2L, 3L));
        assertThat(PyValues.slice(List.of(), null, null, -1L)).isEqualTo(List.of());
    }

    @Test
    void shouldApplyStringMethodsLikePython() {
        assertThat(PyValues.method("hELLo", "swapcase", List.of())).isEqualTo("HellO");
        assertThat(PyValues.method("hELLo", "capitalize", List.of())).isEqualTo("Hello");
        assertThat(PyValues.method("banana", "replace", List.of("a", "o"))).isEqualTo("bonono");
        assertThat(PyValues.binary("*", "ab", 3L)).isEqualTo("ababab");
        assertThat(PyValues.binary("*", "ab", 0L)).isEqualTo("");
    }

    @Test
    void shouldShortCircuitAndReturnOperandsForAndOr() {
        // Python: 0 or 5 == 5, 3 and 0 == 0, x > 1 and x // 0 does not divide when x <= 1
        assertThat(new BinOp("or", Const.of(0), Const.of(5)).eval(Map.of())).isEqualTo(5L);
        assertThat(new BinOp("and", Const.of(3), Const.of(0)).eval(Map.of())).isEqualTo(0L);
        PyExpr guarded =
                new BinOp(
                        "and",
                        new BinOp(">", X, Const.of(1)),
                        new BinOp("==", new BinOp("//", X, Const.of(0)), Const.of(0)));
        assertThat(eval(guarded, 1L)).isEqualTo(false);
    }

    @Test
    void shouldAggregateWithPythonErrorsOnEmptySequences() {
        Comp gen = new Comp(new Neg(new Name("v")), "v", X, null, true);
        assertThat(eval(new Call("max", List.of(gen)), List.of(3L, -1L))).isEqualTo(1L);
        assertThat(eval(new Call("sum", List.of(gen)), List.of(3L, -1L))).isEqualTo(-2L);
        assertThatThrownBy(() -> eval(new Call("min", List.of(gen)), List.of()))
                .isInstanceOf(PyEvalException.class)
                .hasMessageContaining("empty");
    }

    @Test
    void shouldReprValuesAsPythonLiterals() {
        assertThat(PyValues.repr(List.of(1L, -2L))).isEqualTo("[1, -2]");
        assertThat(PyValues.repr("it's")).isEqualTo("\"it's\"");
        assertThat(PyValues.repr("a'b\"c")).isEqualTo("'a\\'b\"c'");
        assertThat(PyValues.repr("tab\there\n")).isEqualTo("'tab\\there\\n'");
        assertThat(PyValues.repr(true)).isEqualTo("True");
        assertThat(PyValues.repr(-5L)).isEqualTo("-5");
        assertThat(PyValues.pyEquals(true, 1L)).isTrue();
    }
}
