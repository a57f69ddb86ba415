package dev.diffustream.streams;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;

class AdvantageServiceTest {

    @Test
    void shouldReplaceDeadThreadsUpToTheLimitThenShutDown() {
        // given a policy allowing two replacements
        AdvantageService.ThreadReplacementPolicy policy =
                new AdvantageService.ThreadReplacementPolicy(2);
        RuntimeException boom = new IllegalStateException("boom");

        // then the first two deaths replace the thread, the third stops the client
        assertThat(policy.respond(boom)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        assertThat(policy.respond(boom)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        assertThat(policy.respond(boom)).isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
    }

    @Test
    void shouldShutDownAtOnceWhenNoReplacementsAreAllowed() {
        assertThat(new AdvantageService.ThreadReplacementPolicy(0).respond(new Error("x")))
                .isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
    }
}
