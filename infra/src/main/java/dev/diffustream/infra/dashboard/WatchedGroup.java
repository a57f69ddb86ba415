package dev.diffustream.infra.dashboard;

import java.util.List;

/**
 * A consumer group of the pipeline whose lag the dashboard shows: e.g. the learner's group {@code
 * learner-<run>} on {@code advantages}. The dashboard only reads the group's committed offsets (an
 * Admin call); it never joins it.
 *
 * @param label short name shown on the page and used in element ids, e.g. {@code learner}
 * @param groupId Kafka group id (a Streams application id is a group id too)
 * @param topics base names (without the run's prefix) of the topics the group consumes
 */
public record WatchedGroup(String label, String groupId, List<String> topics) {

    public WatchedGroup {
        if (label == null || !label.matches("[A-Za-z0-9_-]+")) {
            throw new IllegalArgumentException(
                    "watched group label must use only letters, digits, '_' or '-', got '"
                            + label
                            + "'");
        }
        if (groupId == null || groupId.isBlank()) {
            throw new IllegalArgumentException(
                    "watched group '" + label + "': group id must not be empty");
        }
        if (topics == null || topics.isEmpty()) {
            throw new IllegalArgumentException(
                    "watched group '" + label + "' (" + groupId + "): no topics given");
        }
        topics = List.copyOf(topics);
    }
}
