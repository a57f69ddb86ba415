package dev.diffustream.policy.tasks;

import dev.diffustream.policy.tasks.acecode.AceCodeSuite;
import dev.diffustream.policy.tasks.acecode.Difficulty;
import dev.diffustream.policy.tasks.acecode.DifficultyFilter;
import dev.diffustream.policy.tasks.builtin.BuiltinSuite;
import dev.diffustream.policy.tasks.evalplus.HumanEvalSuite;
import dev.diffustream.policy.tasks.evalplus.MbppSuite;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Opens a task suite named by a one-line spec, so that configuration (feeder, evaluation) can name
 * a suite as a string. Syntax: {@code <kind>[:<arg>][?<key>=<value>[&...]]}, the query starting at
 * the first {@code ?}:
 *
 * <pre>
 * builtin                                  seed 42, 3000 train + 300 held-out tasks
 * builtin:7                                seed 7
 * builtin:7?train=5000&amp;heldout=500        counts
 * acecode:data/acecode.jsonl               hard filter, default models, augmentation (the release)
 * acecode:f.jsonl?difficulty=none          also easy | medium | hard
 * acecode:f.jsonl?models=qwen_coder_2.5,llama3_instruct&amp;augment=false
 * humaneval:data/HumanEval.jsonl.gz
 * mbpp:data/mbpp.jsonl
 * </pre>
 *
 * Relative paths resolve against the base directory given to {@link #open(String, Path)} (the
 * working directory for {@link #open(String)}); a missing file fails at once. Unknown kinds and
 * keys are errors that list what is accepted.
 */
public final class TaskSuites {

    /** One-line summary of the syntax, for help texts. */
    public static final String SYNTAX =
            "builtin[:seed][?train=N&heldout=N] | acecode:PATH[?difficulty=hard|medium|easy|none"
                    + "&models=a,b&augment=true|false] | humaneval:PATH | mbpp:PATH";

    private TaskSuites() {}

    /** Opens a suite; relative paths resolve against the working directory. */
    public static TaskSuite open(String spec) {
        return open(spec, Path.of(""));
    }

    /**
     * Opens a suite; relative paths resolve against {@code baseDir}.
     *
     * @throws IllegalArgumentException for a malformed spec (the message quotes it)
     * @throws TaskDataException if the named file does not exist
     */
    public static TaskSuite open(String spec, Path baseDir) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("empty task suite spec; expected " + SYNTAX);
        }
        String body = spec.strip();
        Map<String, String> query = new LinkedHashMap<>();
        int q = body.indexOf('?');
        if (q >= 0) {
            query = parseQuery(spec, body.substring(q + 1));
            body = body.substring(0, q);
        }
        int colon = body.indexOf(':');
        String kind = (colon < 0 ? body : body.substring(0, colon)).toLowerCase(Locale.ROOT);
        String arg = colon < 0 ? null : body.substring(colon + 1);
        switch (kind) {
            case BuiltinSuite.NAME:
                return builtin(spec, arg, query);
            case AceCodeSuite.NAME:
                return acecode(spec, file(spec, arg, baseDir), query);
            case HumanEvalSuite.NAME:
                allowOnly(spec, query, Set.of());
                return new HumanEvalSuite(file(spec, arg, baseDir));
            case MbppSuite.NAME:
                allowOnly(spec, query, Set.of());
                return new MbppSuite(file(spec, arg, baseDir));
            default:
                throw new IllegalArgumentException(
                        "unknown task suite '" + kind + "' in '" + spec + "'; expected " + SYNTAX);
        }
    }

    private static TaskSuite builtin(String spec, String arg, Map<String, String> query) {
        allowOnly(spec, query, Set.of("train", "heldout"));
        long seed = BuiltinSuite.DEFAULT_SEED;
        if (arg != null && !arg.isEmpty()) {
            seed = parseLong(spec, "seed", arg);
        }
        int train =
                (int)
                        parseLong(
                                spec,
                                "train",
                                query.getOrDefault(
                                        "train", String.valueOf(BuiltinSuite.DEFAULT_TRAIN_COUNT)));
        int heldout =
                (int)
                        parseLong(
                                spec,
                                "heldout",
                                query.getOrDefault(
                                        "heldout",
                                        String.valueOf(BuiltinSuite.DEFAULT_HELDOUT_COUNT)));
        return new BuiltinSuite(seed, train, heldout);
    }

    private static TaskSuite acecode(String spec, Path file, Map<String, String> query) {
        allowOnly(spec, query, Set.of("difficulty", "models", "augment"));
        Difficulty difficulty = Difficulty.parse(query.getOrDefault("difficulty", "hard"));
        Set<String> models = DifficultyFilter.DEFAULT_MODEL_NAMES;
        if (query.containsKey("models")) {
            models = new LinkedHashSet<>();
            for (String m : query.get("models").split(",")) {
                if (!m.isBlank()) {
                    models.add(m.strip());
                }
            }
        }
        String augment = query.getOrDefault("augment", "true").toLowerCase(Locale.ROOT);
        if (!augment.equals("true") && !augment.equals("false")) {
            throw new IllegalArgumentException(
                    "augment must be true or false in '" + spec + "', got '" + augment + "'");
        }
        return new AceCodeSuite(
                file, new DifficultyFilter(difficulty, models), Boolean.parseBoolean(augment));
    }

    private static Path file(String spec, String arg, Path baseDir) {
        if (arg == null || arg.isBlank()) {
            throw new IllegalArgumentException("a file path is required in '" + spec + "'");
        }
        Path file = baseDir.resolve(arg.strip());
        if (!Files.isRegularFile(file)) {
            throw new TaskDataException(file, 0, "file not found (task suite '" + spec + "')");
        }
        return file;
    }

    private static Map<String, String> parseQuery(String spec, String query) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String part : query.split("&")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(
                        "expected key=value, got '" + part + "' in '" + spec + "'");
            }
            String key = part.substring(0, eq).toLowerCase(Locale.ROOT);
            if (out.put(key, part.substring(eq + 1)) != null) {
                throw new IllegalArgumentException(
                        "key '" + key + "' given twice in '" + spec + "'");
            }
        }
        return out;
    }

    private static void allowOnly(String spec, Map<String, String> query, Set<String> allowed) {
        for (String key : query.keySet()) {
            if (!allowed.contains(key)) {
                throw new IllegalArgumentException(
                        "unknown key '"
                                + key
                                + "' in '"
                                + spec
                                + "'; allowed: "
                                + (allowed.isEmpty()
                                        ? "none"
                                        : List.copyOf(new java.util.TreeSet<>(allowed))));
            }
        }
    }

    private static long parseLong(String spec, String what, String text) {
        try {
            long v = Long.parseLong(text.strip());
            if (!what.equals("seed") && (v < 0 || v > Integer.MAX_VALUE)) {
                throw new IllegalArgumentException(
                        what + " must be a non-negative int in '" + spec + "', got " + v);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    what + " must be an integer in '" + spec + "', got '" + text + "'", e);
        }
    }
}
