package dev.diffustream.policy.tasks.acecode;

import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.DiffuCoderPrompts;
import dev.diffustream.policy.tasks.TaskSplit;
import dev.diffustream.policy.tasks.TaskSuite;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An AceCode-style JSONL file prepared as DiffuCoder prepares AceCode-87K (spec §C): read ({@link
 * AceCodeReader}), filter by difficulty ({@link DifficultyFilter}, "hard" by default as in the
 * release), augment questions ({@link QuestionAugmenter}, the augmented copy right after its
 * original), then build each prompt with the rule of spec C.4 ({@link
 * DiffuCoderPrompts#userPrompt}).
 *
 * <p>Every task is in the {@link TaskSplit#TRAIN} split. Task ids are the row {@code id}, and
 * {@code <id>/augmented} for an augmented copy. The entry point is the function name of the best
 * completion's signature when it has one (else {@code null}); the reference solution is the best
 * completion when its pass rate is 1 (its python block if it is fenced), else {@code null}; the
 * family is the row's {@code source}.
 */
public final class AceCodeSuite implements TaskSuite {

    public static final String NAME = "acecode";

    /** Suffix of the id of an augmented copy. */
    public static final String AUGMENTED_SUFFIX = "/augmented";

    private static final Pattern PYTHON_BLOCK =
            Pattern.compile("```python\\n(.*?)```", Pattern.DOTALL);

    private final Path file;
    private final DifficultyFilter filter;
    private final boolean augment;
    private List<AceCodeRow> rows;

    /** The release's preparation: hard filter with the default models, augmentation on. */
    public AceCodeSuite(Path file) {
        this(file, DifficultyFilter.hard(), true);
    }

    public AceCodeSuite(Path file, DifficultyFilter filter, boolean augment) {
        this.file = Objects.requireNonNull(file, "file");
        this.filter = Objects.requireNonNull(filter, "filter");
        this.augment = augment;
    }

    @Override
    public String name() {
        return NAME;
    }

    public Path file() {
        return file;
    }

    public DifficultyFilter filter() {
        return filter;
    }

    /** The prepared rows: filtered, then augmented (if enabled), in file order. */
    public synchronized List<AceCodeRow> rows() {
        if (rows == null) {
            rows = prepare(AceCodeReader.read(file), filter, augment);
        }
        return rows;
    }

    /** Filter then augment (spec C.2, C.3), the steps of {@link #rows()} on given rows. */
    public static List<AceCodeRow> prepare(
            List<AceCodeRow> read, DifficultyFilter filter, boolean augment) {
        List<AceCodeRow> out = new ArrayList<>();
        for (AceCodeRow row : filter.apply(read)) {
            out.addAll(augment ? QuestionAugmenter.augment(row) : List.of(row));
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * @throws IllegalArgumentException for any split but {@link TaskSplit#TRAIN}
     */
    @Override
    public List<CodeTask> load(TaskSplit split) {
        if (split != TaskSplit.TRAIN) {
            throw new IllegalArgumentException(
                    "the acecode suite has only the TRAIN split, not " + split);
        }
        List<CodeTask> tasks = new ArrayList<>();
        for (AceCodeRow row : rows()) {
            tasks.add(toTask(row));
        }
        return Collections.unmodifiableList(tasks);
    }

    /** One prepared row as a task (prompt by spec C.4). */
    public static CodeTask toTask(AceCodeRow row) {
        Optional<String> signature = QuestionAugmenter.signature(row);
        String entryPoint = signature.map(AceCodeSuite::functionName).orElse(null);
        String reference =
                QuestionAugmenter.best(row)
                        .filter(inf -> inf.passRate() >= 1.0)
                        .map(inf -> code(inf.completion()))
                        .orElse(null);
        return new CodeTask(
                row.augmented() ? row.id() + AUGMENTED_SUFFIX : row.id(),
                DiffuCoderPrompts.userPrompt(row.question(), row.testCases()),
                row.testCases(),
                entryPoint,
                null,
                reference,
                NAME,
                TaskSplit.TRAIN,
                row.source());
    }

    private static String functionName(String signature) {
        int paren = signature.indexOf('(');
        String name = (paren < 0 ? signature : signature.substring(0, paren)).strip();
        return name.isEmpty() ? null : name;
    }

    /** The first python block of a fenced completion (spec B.2), else the completion itself. */
    private static String code(String completion) {
        Matcher m = PYTHON_BLOCK.matcher(completion);
        return m.find() ? m.group(1) : completion;
    }
}
