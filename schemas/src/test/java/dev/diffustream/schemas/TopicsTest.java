package dev.diffustream.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.schemas.registry.InMemorySchemaRegistry;
import org.junit.jupiter.api.Test;

class TopicsTest {

    @Test
    void shouldApplyPrefixToEveryTopic() {
        Topics topics = new Topics("run7.", new InMemorySchemaRegistry());
        assertThat(topics.completions().name()).isEqualTo("run7.completions");
        assertThat(topics.trainSteps().name()).isEqualTo("run7.train-steps");
        assertThat(new Topics("", new InMemorySchemaRegistry()).tasks().name()).isEqualTo("tasks");
    }

    @Test
    void shouldCoPartitionTheGroupTopicsOnly() {
        assertThat(Topics.ALL.stream().filter(TopicDef::coPartitioned).map(TopicDef::baseName))
                .containsExactly("completions", "executions", "advantages");
        assertThat(Topics.ALL.stream().filter(TopicDef::coPartitioned).map(TopicDef::keyDoc))
                .containsOnly("groupId");
    }

    @Test
    void shouldHaveOneWriterAndUniqueNamePerTopic() {
        assertThat(Topics.ALL).extracting(TopicDef::baseName).doesNotHaveDuplicates().hasSize(8);
        assertThat(Topics.ALL).allSatisfy(d -> assertThat(d.writer()).isNotBlank());
    }

    @Test
    void shouldListKnownTopicsWhenTopicIsUnknown() {
        assertThatThrownBy(() -> Topics.require("completion"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown topic 'completion'")
                .hasMessageContaining("completions, executions");
        assertThat(Topics.require("advantages")).isSameAs(Topics.ADVANTAGES);
    }
}
