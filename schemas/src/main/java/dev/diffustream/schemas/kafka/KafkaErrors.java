package dev.diffustream.schemas.kafka;

import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidOffsetException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;

/**
 * Classifies exceptions thrown inside client loops (STYLE rule 5, after Kafka's
 * ExactlyOnceMessageProcessor): fatal errors stop the loop, offset errors seek, anything else
 * aborts the transaction and retries with backoff.
 */
public final class KafkaErrors {
    private KafkaErrors() {}

    /** What a read-process-write loop should do about an exception. */
    public enum Action {
        /** Stop the service: retrying cannot help (fenced, auth, unsupported, serialization). */
        FATAL,
        /** Reset the consumer position (offset out of range or missing) and go on. */
        SEEK,
        /** Abort the current transaction, rewind to the last committed offsets, retry. */
        ABORT_AND_RETRY
    }

    public static Action classify(Throwable e) {
        if (e instanceof ProducerFencedException
                || e instanceof InvalidProducerEpochException
                || e instanceof OutOfOrderSequenceException
                || e instanceof AuthenticationException
                || e instanceof AuthorizationException
                || e instanceof UnsupportedVersionException
                || e instanceof SerializationException) {
            return Action.FATAL;
        }
        if (e instanceof InvalidOffsetException) {
            return Action.SEEK;
        }
        if (e instanceof KafkaException) {
            return Action.ABORT_AND_RETRY;
        }
        return Action.ABORT_AND_RETRY;
    }
}
