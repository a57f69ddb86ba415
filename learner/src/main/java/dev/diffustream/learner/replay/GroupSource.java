package dev.diffustream.learner.replay;

import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.GroupRef;

/** Where a replay gets the AdvantageGroup a TrainStep names ({@link AdvantageFetcher} reads it). */
@FunctionalInterface
public interface GroupSource {

    /**
     * The group recorded at {@code ref}'s partition and offset.
     *
     * @throws IllegalStateException if the log holds no such record, or another group
     */
    AdvantageGroup fetch(GroupRef ref);
}
