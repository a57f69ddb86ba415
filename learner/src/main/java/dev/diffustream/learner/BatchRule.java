package dev.diffustream.learner;

import java.util.function.Predicate;

/**
 * Which buffered groups form the learner's next batch (spec A.9: a batch is B prompts' groups).
 *
 * <p>By default the next B groups of the log, trainable or not, as the release batches: its
 * zero-variance groups stay in the batch with advantage 0 and add only the KL term. With {@code
 * fill} (DAPO's dynamic sampling; verl's {@code filter_groups}), the batch runs up to and including
 * the B-th <i>trainable</i> group, so every batch trains on B informative groups (fewer only when
 * all members of a group turn out too stale); the untrainable groups before it are taken too
 * (recorded as skipped), which keeps the committed offsets a prefix of the log.
 */
final class BatchRule {

    private BatchRule() {}

    /**
     * The number of leading entries of {@code buffer} that form the next batch, or -1 while the
     * buffer does not hold a whole batch yet.
     */
    static <E> int length(Iterable<E> buffer, Predicate<E> trainable, int b, boolean fill) {
        int taken = 0;
        int counted = 0;
        for (E e : buffer) {
            taken++;
            if (!fill || trainable.test(e)) {
                counted++;
            }
            if (counted == b) {
                return taken;
            }
        }
        return -1;
    }

    /**
     * Groups the feeder may count as settled besides those taken into batches: with {@code fill},
     * the untrainable ones waiting in the buffer (they will never be trained, and a feeder that
     * waited for them could starve a batch that waits for more trainable groups, as in sync mode
     * where the feeder releases one batch at a time).
     */
    static <E> int settledInBuffer(Iterable<E> buffer, Predicate<E> trainable, boolean fill) {
        if (!fill) {
            return 0;
        }
        int n = 0;
        for (E e : buffer) {
            n += trainable.test(e) ? 0 : 1;
        }
        return n;
    }
}
