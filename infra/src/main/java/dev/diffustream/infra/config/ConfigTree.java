package dev.diffustream.infra.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The untyped form of a configuration while its layers are merged: maps, lists and scalars kept as
 * text (converted to the component's type only when bound), each remembering where it came from.
 */
final class ConfigTree {
    private ConfigTree() {}

    /** Where a value came from. */
    record Origin(String source, int line) {
        static final Origin DEFAULT = new Origin("default", 0);

        static Origin env(String variable) {
            return new Origin("environment variable " + variable, 0);
        }

        boolean isDefault() {
            return this == DEFAULT;
        }

        @Override
        public String toString() {
            return line > 0 ? source + ":" + line : source;
        }
    }

    sealed interface Node permits Scalar, MapNode, ListNode {
        Origin origin();

        Node withOrigin(Origin origin);
    }

    /** A scalar as written ({@code text == null} for null). */
    record Scalar(String text, Origin origin) implements Node {
        boolean isNull() {
            return text == null;
        }

        @Override
        public Node withOrigin(Origin o) {
            return new Scalar(text, o);
        }
    }

    record MapNode(Map<String, Node> entries, Origin origin) implements Node {
        MapNode {
            entries = new LinkedHashMap<>(entries);
        }

        @Override
        public Node withOrigin(Origin o) {
            return new MapNode(entries, o);
        }
    }

    record ListNode(List<Node> items, Origin origin) implements Node {
        ListNode {
            items = new ArrayList<>(items);
        }

        @Override
        public Node withOrigin(Origin o) {
            return new ListNode(items, o);
        }
    }

    static String describe(Node n) {
        if (n instanceof MapNode) {
            return "a mapping";
        }
        if (n instanceof ListNode) {
            return "a list";
        }
        Scalar s = (Scalar) n;
        return s.isNull() ? "null" : "'" + s.text() + "'";
    }
}
