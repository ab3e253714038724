package dev.workflowworker.redis;

import dev.workflowworker.api.ErrorCategory;
import dev.workflowworker.api.TransientWorkflowException;
import dev.workflowworker.api.WorkflowException;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

@ExtendWith(RedisServerExtension.class)
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

    @Test
    void redisUnavailableIsATransientWorkflowException() {
        WorkflowException e = new RedisUnavailableException("down", null);
        assertInstanceOf(TransientWorkflowException.class, e);
        assertEquals(ErrorCategory.TRANSIENT, e.category());
    }

    @Test
    void theRedisTransportOffersThisClassifier(RedisServer redis) {
        try (RedisEventTransport t = RedisEventTransport.create(redis.options().build())) {
            assertEquals(List.of(RedisErrorClassifier.INSTANCE), t.errorClassifiers());
        }
    }
}
