package dev.workflowworker.redis;

import dev.workflowworker.api.ErrorCategory;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

import java.io.IOException;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RedisErrorClassifierTest {

    @Test
    void connectionFailuresAreTransientEvenWhenWrapped() {
        assertEquals(Optional.of(ErrorCategory.TRANSIENT),
                RedisErrorClassifier.INSTANCE.classify(new JedisConnectionException("reset")));
        assertEquals(Optional.of(ErrorCategory.TRANSIENT), RedisErrorClassifier.INSTANCE.classify(
                new RuntimeException("handler", new JedisConnectionException(new IOException("refused")))));
        assertEquals(Optional.of(ErrorCategory.TRANSIENT), RedisErrorClassifier.INSTANCE.classify(
                new RedisUnavailableException("down", null)));
    }

    @Test
    void dataAndScriptErrorsAreNotTransient() {
        assertEquals(Optional.empty(),
                RedisErrorClassifier.INSTANCE.classify(new JedisDataException("WRONGTYPE Operation")));
        assertEquals(Optional.empty(), RedisErrorClassifier.INSTANCE.classify(new IllegalStateException("other")));
    }
}
