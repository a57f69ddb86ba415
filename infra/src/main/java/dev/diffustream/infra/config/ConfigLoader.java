package dev.diffustream.infra.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.diffustream.infra.config.ConfigTree.ListNode;
import dev.diffustream.infra.config.ConfigTree.MapNode;
import dev.diffustream.infra.config.ConfigTree.Node;
import dev.diffustream.infra.config.ConfigTree.Origin;
import dev.diffustream.infra.config.ConfigTree.Scalar;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads a typed configuration record in three layers: the record's {@code static defaults()} → a
 * YAML file → environment variables {@code DIFFUSTREAM_<SECTION>_<KEY>} (key matched
 * case-insensitively, nested keys joined by {@code _}, underscores inside a key optional: {@code
 * DIFFUSTREAM_KAFKA_TOPICPREFIX} and {@code DIFFUSTREAM_KAFKA_TOPIC_PREFIX} both set {@code
 * kafka.topicPrefix}). A {@code Map<String, String>} key takes the rest of the name, lower-cased
 * with {@code _} → {@code .} ({@code DIFFUSTREAM_KAFKA_CLIENT_SECURITY_PROTOCOL} sets {@code
 * kafka.client["security.protocol"]}); a list takes comma-separated values. Variables whose first
 * part names no section are not ours and are ignored.
 *
 * <p>Config records follow docs/CONTRIBUTING.md: components of plain values ({@code String},
 * primitives and their boxes, enums, {@link Path}, {@link Duration} as {@code PT30S} or {@code
 * 30s}/{@code 500ms}/{@code 5m}/{@code 2h}/{@code 1d}), lists, string-keyed maps and nested config
 * records, a {@link JsonPropertyDescription} on every component and a {@code static defaults()}.
 *
 * <p>Unknown keys and bad values fail with every problem at once, each naming its source (file and
 * line, or variable) and key path, e.g. {@code recipes/x.yaml:7: unknown key 'learner.lerning_rate'
 * (did you mean 'learningRate'?)}.
 *
 * @param <T> the root record (e.g. the CLI's {@code Recipe})
 */
public final class ConfigLoader<T extends Record> {

    /** The prefix of environment variables. */
    public static final String ENV_PREFIX = "DIFFUSTREAM_";

    private static final YAMLFactory YAML = new YAMLFactory();
    private static final YAMLMapper YAML_WRITER =
            YAMLMapper.builder(
                            YAMLFactory.builder()
                                    .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                                    .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                                    .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
                                    .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
                                    .build())
                    .build();
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    private final Class<T> type;
    private final T defaults;

    private ConfigLoader(Class<T> type, T defaults) {
        this.type = type;
        this.defaults = defaults;
    }

    /** A loader whose code layer is {@code type}'s {@code public static T defaults()}. */
    public static <T extends Record> ConfigLoader<T> of(Class<T> type) {
        return new ConfigLoader<>(type, defaultsOf(type));
    }

    /** A loader with explicit defaults. */
    public static <T extends Record> ConfigLoader<T> of(Class<T> type, T defaults) {
        return new ConfigLoader<>(type, defaults);
    }

    /** A loaded configuration and its renderings. */
    public record Loaded<T extends Record>(T value, String yaml, String sha256) {}

    /**
     * A value set on the command line: {@code path} is a dotted key path ({@code kafka.bootstrap},
     * {@code kafka.client.security.protocol}), {@code source} what to name in messages ({@code
     * option --bootstrap}).
     */
    public record Setting(String path, String value, String source) {}

    /** One documented key. */
    public record KeyDoc(
            String path, String type, String defaultValue, String description, String env) {}

    /** Loads defaults → {@code file} (if not null) → the process environment. */
    public Loaded<T> load(Path file) {
        return load(file, System.getenv());
    }

    /**
     * Loads defaults → {@code file} (if not null) → {@code env}.
     *
     * @throws ConfigException naming file, line and key path of every unknown key and bad value
     */
    public Loaded<T> load(Path file, Map<String, String> env) {
        return load(readFile(file), file == null ? null : file.toString(), env, List.of());
    }

    /**
     * Loads defaults → {@code file} (if not null) → {@code env} → {@code settings} (command-line
     * options, highest precedence).
     */
    public Loaded<T> load(Path file, Map<String, String> env, List<Setting> settings) {
        return load(readFile(file), file == null ? null : file.toString(), env, settings);
    }

    private static String readFile(Path file) {
        if (file == null) {
            return null;
        }
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        }
    }

    /**
     * Loads defaults → {@code yaml} (named {@code source} in messages; may be null) → {@code env}.
     */
    public Loaded<T> load(String yaml, String source, Map<String, String> env) {
        return load(yaml, source, env, List.of());
    }

    /** Loads defaults → {@code yaml} → {@code env} → {@code settings}. */
    public Loaded<T> load(
            String yaml, String source, Map<String, String> env, List<Setting> settings) {
        List<String> problems = new ArrayList<>();
        Node tree = toTree(defaults, type, Origin.DEFAULT);
        if (yaml != null) {
            Node file = parseYaml(yaml, source == null ? "<yaml>" : source);
            if (file != null) {
                tree = merge(tree, file, type, "", problems);
            }
        }
        tree = applyEnv(tree, env, problems);
        for (Setting setting : settings) {
            Origin origin = new Origin(setting.source(), 0);
            List<String> path = new ArrayList<>();
            String error = resolvePath(type, List.of(setting.path().split("\\.", -1)), 0, path);
            if (error != null) {
                problems.add(origin + ": " + error);
                continue;
            }
            tree = set(tree, type, path, 0, setting.value(), origin, problems);
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        Object value = bind(tree, type, "", problems);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        T typed = type.cast(value);
        return new Loaded<>(typed, toYaml(typed), sha256(typed));
    }

    // ---------------------------------------------------------------- YAML in

    private static Node parseYaml(String yaml, String source) {
        try (JsonParser p = YAML.createParser(yaml)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                return null; // an empty file: nothing to override
            }
            Node root = parseValue(p, source, line(p));
            if (root instanceof Scalar s && s.isNull()) {
                return null;
            }
            if (!(root instanceof MapNode)) {
                throw new ConfigException(
                        source
                                + ":"
                                + root.origin().line()
                                + ": expected a mapping of sections (e.g. 'kafka:'), got "
                                + ConfigTree.describe(root));
            }
            return root;
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw new ConfigException(
                    source
                            + (at != null && at.getLineNr() > 0 ? ":" + at.getLineNr() : "")
                            + ": not valid YAML: "
                            + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ConfigException(source + ": cannot read YAML: " + e.getMessage());
        }
    }

    private static int line(JsonParser p) {
        return p.currentTokenLocation().getLineNr();
    }

    private static Node parseValue(JsonParser p, String source, int keyLine) throws IOException {
        Origin origin = new Origin(source, keyLine);
        JsonToken t = p.currentToken();
        switch (t) {
            case START_OBJECT -> {
                Map<String, Node> entries = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    int line = line(p);
                    if (entries.containsKey(key)) {
                        throw new ConfigException(
                                source + ":" + line + ": duplicate key '" + key + "'");
                    }
                    p.nextToken();
                    entries.put(key, parseValue(p, source, line));
                }
                return new MapNode(entries, origin);
            }
            case START_ARRAY -> {
                List<Node> items = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    items.add(parseValue(p, source, line(p)));
                }
                return new ListNode(items, origin);
            }
            case VALUE_NULL -> {
                return new Scalar(null, origin);
            }
            default -> {
                return new Scalar(p.getText(), origin);
            }
        }
    }

    // ---------------------------------------------------------------- layering

    /** Lays {@code over} on {@code base} for a value of {@code type}, checking keys as it goes. */
    private static Node merge(Node base, Node over, Type type, String path, List<String> problems) {
        Class<?> raw = raw(type);
        if (raw.isRecord()) {
            if (over instanceof Scalar s && s.isNull()) {
                return base; // an empty section ("kafka:" with every key commented out)
            }
            if (!(over instanceof MapNode overMap)) {
                problems.add(
                        over.origin()
                                + ": "
                                + label(path)
                                + " is a section: expected a mapping of its keys, got "
                                + ConfigTree.describe(over));
                return base;
            }
            Map<String, Node> merged =
                    base instanceof MapNode bm
                            ? new LinkedHashMap<>(bm.entries())
                            : new LinkedHashMap<>();
            Map<String, RecordComponent> components = components(raw);
            for (Map.Entry<String, Node> e : overMap.entries().entrySet()) {
                RecordComponent c = components.get(e.getKey());
                String childPath = join(path, e.getKey());
                if (c == null) {
                    problems.add(
                            e.getValue().origin()
                                    + ": unknown key '"
                                    + childPath
                                    + "'"
                                    + suggestion(e.getKey(), components.keySet()));
                    continue;
                }
                Node prior = merged.get(c.getName());
                merged.put(
                        c.getName(),
                        prior == null
                                ? e.getValue()
                                : merge(
                                        prior,
                                        e.getValue(),
                                        c.getGenericType(),
                                        childPath,
                                        problems));
            }
            return new MapNode(merged, base.origin());
        }
        if (Map.class.isAssignableFrom(raw)) {
            if (over instanceof Scalar s && s.isNull()) {
                return over;
            }
            if (!(over instanceof MapNode overMap)) {
                problems.add(
                        over.origin()
                                + ": "
                                + label(path)
                                + ": expected a mapping, got "
                                + ConfigTree.describe(over));
                return base;
            }
            Type valueType = typeArg(type, 1);
            Map<String, Node> merged =
                    base instanceof MapNode bm
                            ? new LinkedHashMap<>(bm.entries())
                            : new LinkedHashMap<>();
            for (Map.Entry<String, Node> e : overMap.entries().entrySet()) {
                Node prior = merged.get(e.getKey());
                merged.put(
                        e.getKey(),
                        prior != null && raw(valueType).isRecord()
                                ? merge(
                                        prior,
                                        e.getValue(),
                                        valueType,
                                        join(path, e.getKey()),
                                        problems)
                                : e.getValue());
            }
            return new MapNode(merged, over.origin());
        }
        return over; // scalars and lists replace
    }

    private Node applyEnv(Node tree, Map<String, String> env, List<String> problems) {
        Map<String, RecordComponent> sections = components(type);
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            String name = e.getKey();
            if (!name.toUpperCase(Locale.ROOT).startsWith(ENV_PREFIX)) {
                continue;
            }
            List<String> tokens = List.of(name.substring(ENV_PREFIX.length()).split("_"));
            if (tokens.isEmpty() || tokens.stream().anyMatch(String::isEmpty)) {
                continue;
            }
            boolean ours = false;
            for (String section : sections.keySet()) {
                for (int k = 1; k <= tokens.size(); k++) {
                    ours |= matchesTokens(section, tokens, k);
                }
            }
            if (!ours) {
                continue; // e.g. DIFFUSTREAM_CACHE_DIR: not a recipe section
            }
            Origin origin = Origin.env(name);
            List<String> path = new ArrayList<>();
            String error = resolve(type, tokens, 0, path);
            if (error != null) {
                problems.add(origin + ": " + error);
                continue;
            }
            tree = set(tree, type, path, 0, e.getValue(), origin, problems);
        }
        return tree;
    }

    private static boolean matchesTokens(String name, List<String> tokens, int count) {
        if (tokens.size() < count) {
            return false;
        }
        return String.join("", tokens.subList(0, count)).equalsIgnoreCase(name.replace("_", ""));
    }

    /** Resolves env-name tokens to a key path of {@code type}; returns an error message or null. */
    private static String resolve(Type type, List<String> tokens, int from, List<String> path) {
        Class<?> raw = raw(type);
        String at = String.join(".", path);
        if (from == tokens.size()) {
            if (raw.isRecord()) {
                return "'"
                        + at
                        + "' is a section; set one of its keys ("
                        + String.join(", ", components(raw).keySet())
                        + ")";
            }
            return null;
        }
        if (raw.isRecord()) {
            Map<String, RecordComponent> components = components(raw);
            String nested = null;
            for (int count = tokens.size() - from; count >= 1; count--) {
                List<String> part = tokens.subList(from, from + count);
                for (RecordComponent c : components.values()) {
                    if (matchesTokens(c.getName(), part, count)) {
                        path.add(c.getName());
                        String error = resolve(c.getGenericType(), tokens, from + count, path);
                        if (error == null) {
                            return null;
                        }
                        nested = nested == null ? error : nested;
                        path.remove(path.size() - 1);
                    }
                }
            }
            if (nested != null) {
                return nested; // a key matched; what follows it did not
            }
            String wanted =
                    String.join("_", tokens.subList(from, tokens.size())).toLowerCase(Locale.ROOT);
            return "unknown key '"
                    + join(at, wanted)
                    + "'"
                    + suggestion(tokens.get(from), components.keySet());
        }
        if (Map.class.isAssignableFrom(raw) && !raw(typeArg(type, 1)).isRecord()) {
            path.add(
                    String.join(".", tokens.subList(from, tokens.size())).toLowerCase(Locale.ROOT));
            return null;
        }
        return "'"
                + at
                + "' has no keys; it cannot be set as "
                + String.join("_", tokens.subList(0, tokens.size()));
    }

    /** Resolves a dotted key path (exact component names) to a key path; an error or null. */
    private static String resolvePath(Type type, List<String> parts, int from, List<String> path) {
        Class<?> raw = raw(type);
        String at = String.join(".", path);
        if (from == parts.size()) {
            return raw.isRecord()
                    ? "'"
                            + at
                            + "' is a section; set one of its keys ("
                            + String.join(", ", components(raw).keySet())
                            + ")"
                    : null;
        }
        if (raw.isRecord()) {
            Map<String, RecordComponent> components = components(raw);
            RecordComponent c = components.get(parts.get(from));
            if (c == null) {
                return "unknown key '"
                        + join(at, parts.get(from))
                        + "'"
                        + suggestion(parts.get(from), components.keySet());
            }
            path.add(c.getName());
            return resolvePath(c.getGenericType(), parts, from + 1, path);
        }
        if (Map.class.isAssignableFrom(raw) && !raw(typeArg(type, 1)).isRecord()) {
            path.add(String.join(".", parts.subList(from, parts.size())));
            return null;
        }
        return "'" + at + "' has no keys";
    }

    private static Node set(
            Node node,
            Type type,
            List<String> path,
            int i,
            String value,
            Origin origin,
            List<String> problems) {
        if (i == path.size()) {
            if (List.class.isAssignableFrom(raw(type))
                    || java.util.Set.class.isAssignableFrom(raw(type))) {
                List<Node> items = new ArrayList<>();
                if (!value.isBlank()) {
                    for (String part : value.split(",")) {
                        items.add(new Scalar(part.strip(), origin));
                    }
                }
                return new ListNode(items, origin);
            }
            return new Scalar(value, origin);
        }
        Map<String, Node> entries =
                node instanceof MapNode m
                        ? new LinkedHashMap<>(m.entries())
                        : new LinkedHashMap<>();
        Class<?> raw = raw(type);
        String key = path.get(i);
        Type child = raw.isRecord() ? components(raw).get(key).getGenericType() : typeArg(type, 1);
        Node prior = entries.get(key);
        entries.put(key, set(prior, child, path, i + 1, value, origin, problems));
        return new MapNode(entries, node == null ? origin : node.origin());
    }

    // ---------------------------------------------------------------- binding

    private static Object bind(Node node, Type type, String path, List<String> problems) {
        Class<?> raw = raw(type);
        if (node instanceof Scalar s && s.isNull()) {
            if (raw.isPrimitive()) {
                problems.add(
                        s.origin()
                                + ": "
                                + label(path)
                                + ": a value is required ("
                                + typeName(type)
                                + ")");
            }
            return null;
        }
        if (raw.isRecord()) {
            if (!(node instanceof MapNode map)) {
                problems.add(
                        node.origin()
                                + ": "
                                + label(path)
                                + " is a section: expected a mapping, got "
                                + ConfigTree.describe(node));
                return null;
            }
            RecordComponent[] cs = raw.getRecordComponents();
            Object[] args = new Object[cs.length];
            Class<?>[] types = new Class<?>[cs.length];
            int before = problems.size();
            for (int i = 0; i < cs.length; i++) {
                types[i] = cs[i].getType();
                Node child = map.entries().get(cs[i].getName());
                String childPath = join(path, cs[i].getName());
                if (child == null) {
                    if (cs[i].getType().isPrimitive()) {
                        problems.add(
                                map.origin()
                                        + ": "
                                        + label(childPath)
                                        + ": a value is required ("
                                        + typeName(cs[i].getGenericType())
                                        + ")");
                    }
                    continue;
                }
                args[i] = bind(child, cs[i].getGenericType(), childPath, problems);
            }
            if (problems.size() > before) {
                return null;
            }
            try {
                Constructor<?> ctor = raw.getDeclaredConstructor(types);
                ctor.setAccessible(true);
                return ctor.newInstance(args);
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                problems.add(
                        originOfMessage(map, path, String.valueOf(cause.getMessage()))
                                + ": "
                                + (path.isEmpty() ? "" : "invalid '" + path + "': ")
                                + cause.getMessage());
                return null;
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot construct " + raw.getName() + ": " + e, e);
            }
        }
        if (List.class.isAssignableFrom(raw) || java.util.Set.class.isAssignableFrom(raw)) {
            if (!(node instanceof ListNode list)) {
                problems.add(
                        node.origin()
                                + ": "
                                + label(path)
                                + ": expected a list, got "
                                + ConfigTree.describe(node));
                return null;
            }
            List<Object> out = new ArrayList<>();
            for (int i = 0; i < list.items().size(); i++) {
                out.add(
                        bind(
                                list.items().get(i),
                                typeArg(type, 0),
                                path + "[" + i + "]",
                                problems));
            }
            return java.util.Set.class.isAssignableFrom(raw)
                    ? new java.util.LinkedHashSet<>(out)
                    : out;
        }
        if (Map.class.isAssignableFrom(raw)) {
            if (!(node instanceof MapNode map)) {
                problems.add(
                        node.origin()
                                + ": "
                                + label(path)
                                + ": expected a mapping, got "
                                + ConfigTree.describe(node));
                return null;
            }
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<String, Node> e : map.entries().entrySet()) {
                out.put(
                        e.getKey(),
                        bind(e.getValue(), typeArg(type, 1), join(path, e.getKey()), problems));
            }
            return out;
        }
        if (!(node instanceof Scalar s)) {
            problems.add(
                    node.origin()
                            + ": "
                            + label(path)
                            + ": expected "
                            + typeName(type)
                            + ", got "
                            + ConfigTree.describe(node));
            return null;
        }
        try {
            return scalar(s.text().strip(), raw, s.text());
        } catch (IllegalArgumentException | DateTimeParseException e) {
            problems.add(
                    s.origin()
                            + ": "
                            + label(path)
                            + ": expected "
                            + typeName(type)
                            + ", got '"
                            + s.text()
                            + "'");
            return null;
        }
    }

    private static Object scalar(String text, Class<?> raw, String original) {
        if (raw == String.class) {
            return original;
        }
        if (raw == int.class || raw == Integer.class) {
            return Integer.parseInt(text);
        }
        if (raw == long.class || raw == Long.class) {
            return Long.parseLong(text);
        }
        if (raw == short.class || raw == Short.class) {
            return Short.parseShort(text);
        }
        if (raw == double.class || raw == Double.class) {
            return Double.parseDouble(text);
        }
        if (raw == float.class || raw == Float.class) {
            return Float.parseFloat(text);
        }
        if (raw == boolean.class || raw == Boolean.class) {
            if (text.equalsIgnoreCase("true")) {
                return true;
            }
            if (text.equalsIgnoreCase("false")) {
                return false;
            }
            throw new IllegalArgumentException(text);
        }
        if (raw.isEnum()) {
            for (Object constant : raw.getEnumConstants()) {
                if (((Enum<?>) constant).name().equalsIgnoreCase(text)) {
                    return constant;
                }
            }
            throw new IllegalArgumentException(text);
        }
        if (raw == Path.class) {
            return Path.of(text);
        }
        if (raw == Duration.class) {
            Matcher m = DURATION.matcher(text.toLowerCase(Locale.ROOT));
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                return switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            }
            return Duration.parse(text.toUpperCase(Locale.ROOT));
        }
        throw new IllegalStateException(
                "config type " + raw.getName() + " is not supported (see ConfigLoader)");
    }

    /**
     * The origin of the key a constructor's message names (e.g. "kafka.partitions"), else of the
     * section.
     */
    private static Origin originOfMessage(MapNode section, String path, String message) {
        Origin best = null;
        for (Map.Entry<String, Node> e : section.entries().entrySet()) {
            String full = join(path, e.getKey());
            if (message.contains(full)
                    || message.matches("(?s).*\\b" + Pattern.quote(e.getKey()) + "\\b.*")) {
                if (!e.getValue().origin().isDefault()) {
                    return e.getValue().origin();
                }
                best = e.getValue().origin();
            }
        }
        for (Node n : section.entries().values()) {
            if (!n.origin().isDefault()) {
                return best != null && !best.isDefault() ? best : n.origin();
            }
        }
        return best != null ? best : section.origin();
    }

    // ---------------------------------------------------------------- rendering

    /** The configuration as YAML, keys in declaration order (what services print at start-up). */
    public static String toYaml(Record config) {
        return write(toJson(config, false));
    }

    /**
     * The canonical rendering: YAML with every key sorted, so equal configurations render equal
     * (what {@link #sha256} hashes and checkpoints record).
     */
    public static String canonical(Record config) {
        return write(toJson(config, true));
    }

    /** sha256 (hex) of the {@linkplain #canonical canonical rendering}. */
    public static String sha256(Record config) {
        return sha256(canonical(config));
    }

    /** sha256 (hex) of a text's UTF-8 bytes. */
    public static String sha256(String text) {
        try {
            byte[] digest =
                    MessageDigest.getInstance("SHA-256")
                            .digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String write(JsonNode node) {
        try {
            return YAML_WRITER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render configuration as YAML", e);
        }
    }

    private static JsonNode toJson(Object value, boolean sorted) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (value == null) {
            return f.nullNode();
        }
        if (value instanceof Record r) {
            ObjectNode o = f.objectNode();
            List<RecordComponent> cs = new ArrayList<>(List.of(r.getClass().getRecordComponents()));
            if (sorted) {
                cs.sort(java.util.Comparator.comparing(RecordComponent::getName));
            }
            for (RecordComponent c : cs) {
                o.set(c.getName(), toJson(read(c, r), sorted));
            }
            return o;
        }
        if (value instanceof Map<?, ?> m) {
            ObjectNode o = f.objectNode();
            Map<String, Object> ordered = new TreeMap<>();
            m.forEach((k, v) -> ordered.put(String.valueOf(k), v));
            ordered.forEach((k, v) -> o.set(k, toJson(v, sorted)));
            return o;
        }
        if (value instanceof Collection<?> c) {
            ArrayNode a = f.arrayNode();
            c.forEach(v -> a.add(toJson(v, sorted)));
            return a;
        }
        if (value instanceof Integer i) {
            return f.numberNode(i);
        }
        if (value instanceof Long l) {
            return f.numberNode(l);
        }
        if (value instanceof Short s) {
            return f.numberNode(s);
        }
        if (value instanceof Double d) {
            return f.numberNode(d);
        }
        if (value instanceof Float fl) {
            return f.numberNode(fl);
        }
        if (value instanceof Boolean b) {
            return f.booleanNode(b);
        }
        if (value instanceof Enum<?> e) {
            return f.textNode(e.name());
        }
        return f.textNode(value.toString());
    }

    /** The untyped form of a value (its rendering), each node marked with {@code origin}. */
    private static Node toTree(Object value, Type type, Origin origin) {
        if (value == null) {
            return new Scalar(null, origin);
        }
        if (value instanceof Record r) {
            Map<String, Node> entries = new LinkedHashMap<>();
            for (RecordComponent c : r.getClass().getRecordComponents()) {
                entries.put(c.getName(), toTree(read(c, r), c.getGenericType(), origin));
            }
            return new MapNode(entries, origin);
        }
        if (value instanceof Map<?, ?> m) {
            Map<String, Node> entries = new LinkedHashMap<>();
            m.forEach(
                    (k, v) -> entries.put(String.valueOf(k), toTree(v, typeArg(type, 1), origin)));
            return new MapNode(entries, origin);
        }
        if (value instanceof Collection<?> c) {
            List<Node> items = new ArrayList<>();
            c.forEach(v -> items.add(toTree(v, typeArg(type, 0), origin)));
            return new ListNode(items, origin);
        }
        if (value instanceof Enum<?> e) {
            return new Scalar(e.name(), origin);
        }
        return new Scalar(value.toString(), origin);
    }

    private static Object read(RecordComponent c, Record r) {
        try {
            Method accessor = c.getAccessor();
            accessor.setAccessible(true);
            return accessor.invoke(r);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    "cannot read " + c.getName() + " of " + r.getClass().getName(), e);
        }
    }

    // ---------------------------------------------------------------- documentation

    /** Every key with its type, default, description and environment variable. */
    public List<KeyDoc> describe() {
        List<KeyDoc> out = new ArrayList<>();
        describe(type, defaults, "", out);
        return out;
    }

    private static void describe(Class<?> raw, Object defaults, String path, List<KeyDoc> out) {
        for (RecordComponent c : raw.getRecordComponents()) {
            String childPath = join(path, c.getName());
            Object value = defaults == null ? null : read(c, (Record) defaults);
            String description = description(c);
            if (c.getType().isRecord()) {
                out.add(new KeyDoc(childPath, "section", "", description, ""));
                describe(c.getType(), value, childPath, out);
                continue;
            }
            JsonNode json = toJson(value, true);
            String rendered =
                    json.isValueNode() && !json.isNull() ? json.asText() : json.toString();
            if (value instanceof String s && s.isEmpty()) {
                rendered = "\"\"";
            }
            out.add(
                    new KeyDoc(
                            childPath,
                            typeName(c.getGenericType()),
                            rendered,
                            description,
                            envName(childPath, c.getGenericType())));
        }
    }

    /** The keys as aligned text: {@code key (type, default X)} then the description. */
    public String describeText() {
        StringBuilder sb = new StringBuilder();
        for (KeyDoc d : describe()) {
            if (d.type().equals("section")) {
                sb.append('\n').append(d.path()).append(":  ").append(d.description()).append('\n');
                continue;
            }
            sb.append("  ")
                    .append(d.path())
                    .append("  (")
                    .append(d.type())
                    .append(", default ")
                    .append(d.defaultValue())
                    .append(")\n");
            sb.append("      ").append(d.description());
            if (!d.env().isEmpty()) {
                sb.append(" [env ").append(d.env()).append(']');
            }
            sb.append('\n');
        }
        return sb.toString().stripLeading();
    }

    /** The keys as a Markdown table (for the README's recipe reference). */
    public String describeMarkdown() {
        StringBuilder sb =
                new StringBuilder("| key | type | default | description |\n|---|---|---|---|\n");
        for (KeyDoc d : describe()) {
            if (d.type().equals("section")) {
                sb.append("| **`")
                        .append(d.path())
                        .append("`** | section | | ")
                        .append(md(d.description()))
                        .append(" |\n");
                continue;
            }
            sb.append("| `")
                    .append(d.path())
                    .append("` | ")
                    .append(md(d.type()))
                    .append(" | `")
                    .append(md(d.defaultValue().replace("\n", " ")))
                    .append("` | ")
                    .append(md(d.description()))
                    .append(" |\n");
        }
        return sb.toString();
    }

    private static String md(String s) {
        return s.replace("|", "\\|");
    }

    private static String envName(String path, Type type) {
        String base = ENV_PREFIX + path.replace('.', '_').toUpperCase(Locale.ROOT);
        if (Map.class.isAssignableFrom(raw(type))) {
            return base + "_<KEY>";
        }
        return base;
    }

    private static String description(RecordComponent c) {
        JsonPropertyDescription d = c.getAccessor().getAnnotation(JsonPropertyDescription.class);
        if (d == null) {
            try {
                d =
                        c.getDeclaringRecord()
                                .getDeclaredField(c.getName())
                                .getAnnotation(JsonPropertyDescription.class);
            } catch (NoSuchFieldException e) {
                d = null;
            }
        }
        return d == null ? "(undocumented)" : d.value();
    }

    // ---------------------------------------------------------------- helpers

    private static <T extends Record> T defaultsOf(Class<T> type) {
        try {
            Method m = type.getDeclaredMethod("defaults");
            if (!Modifier.isStatic(m.getModifiers()) || !type.isAssignableFrom(m.getReturnType())) {
                throw new IllegalArgumentException(
                        type.getName()
                                + ".defaults() must be static and return "
                                + type.getSimpleName());
            }
            m.setAccessible(true);
            return type.cast(m.invoke(null));
        } catch (NoSuchMethodException e) {
            throw new IllegalArgumentException(
                    type.getName() + " has no static defaults() (see docs/CONTRIBUTING.md)", e);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    "cannot call " + type.getName() + ".defaults(): " + e.getCause(), e);
        }
    }

    private static Map<String, RecordComponent> components(Class<?> raw) {
        Map<String, RecordComponent> out = new LinkedHashMap<>();
        for (RecordComponent c : raw.getRecordComponents()) {
            out.put(c.getName(), c);
        }
        return out;
    }

    private static Class<?> raw(Type t) {
        if (t instanceof Class<?> c) {
            return c;
        }
        if (t instanceof ParameterizedType p) {
            return (Class<?>) p.getRawType();
        }
        return Object.class;
    }

    private static Type typeArg(Type t, int i) {
        if (t instanceof ParameterizedType p && p.getActualTypeArguments().length > i) {
            return p.getActualTypeArguments()[i];
        }
        return String.class;
    }

    private static String typeName(Type t) {
        Class<?> raw = raw(t);
        if (List.class.isAssignableFrom(raw) || java.util.Set.class.isAssignableFrom(raw)) {
            return "list of " + typeName(typeArg(t, 0));
        }
        if (Map.class.isAssignableFrom(raw)) {
            return "map of " + typeName(typeArg(t, 1));
        }
        if (raw.isEnum()) {
            List<String> names = new ArrayList<>();
            for (Object c : raw.getEnumConstants()) {
                names.add(((Enum<?>) c).name());
            }
            return "one of " + String.join("|", names);
        }
        if (raw == Duration.class) {
            return "duration";
        }
        if (raw == Path.class) {
            return "path";
        }
        if (raw == String.class) {
            return "string";
        }
        if (raw == Integer.class
                || raw == int.class
                || raw == Short.class
                || raw == short.class
                || raw == Long.class
                || raw == long.class) {
            return "integer";
        }
        if (raw == Double.class
                || raw == double.class
                || raw == Float.class
                || raw == float.class) {
            return "number";
        }
        if (raw == Boolean.class || raw == boolean.class) {
            return "true|false";
        }
        return raw.getSimpleName();
    }

    private static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    private static String label(String path) {
        return path.isEmpty() ? "the configuration" : "'" + path + "'";
    }

    /**
     * {@code " (did you mean 'x'?)"} for the known name closest to {@code key} (case, {@code _} and
     * {@code -} ignored), or {@code " (known keys: a, b)"} when none is close.
     */
    public static String suggestion(String key, Collection<String> known) {
        String k = normalize(key);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int d = distance(k, normalize(candidate));
            if (d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        if (best != null && bestDistance <= Math.max(2, k.length() / 3)) {
            return " (did you mean '" + best + "'?)";
        }
        return " (known keys: " + String.join(", ", known) + ")";
    }

    private static String normalize(String s) {
        return s.replace("_", "").replace("-", "").toLowerCase(Locale.ROOT);
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
